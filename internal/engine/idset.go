package engine

import (
	bits64 "math/bits"
	"slices"
)

// idSet is a set of provider indexes below a bound: a list while it is
// small (a limit=5 answer marks five), a bitmap of the whole bound once the
// list would take more room than the bitmap. At 50,000 providers the
// bitmap is 6 KiB, which every streamed request used to allocate.
type idSet struct {
	bound int32
	list  []int32 // unsorted, may repeat; nil once bits is in use
	bits  []uint64
}

func newIDSet(bound int) idSet { return idSet{bound: int32(bound)} }

func (u *idSet) add(id int32) {
	if u.bits != nil {
		u.bits[id/64] |= 1 << (id % 64)
		return
	}
	u.list = append(u.list, id)
	if 4*len(u.list) > int(u.bound+63)/8 {
		u.bits = make([]uint64, (u.bound+63)/64)
		for _, x := range u.list {
			u.bits[x/64] |= 1 << (x % 64)
		}
		u.list = nil
	}
}

// sorted returns the members in ascending order.
func (u *idSet) sorted() []int32 {
	if u.bits == nil {
		ids := slices.Clone(u.list)
		slices.Sort(ids)
		return slices.Compact(ids)
	}
	var ids []int32
	for w, bits := range u.bits {
		for ; bits != 0; bits &= bits - 1 {
			ids = append(ids, int32(w*64+bits64.TrailingZeros64(bits)))
		}
	}
	return ids
}
