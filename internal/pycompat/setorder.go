package pycompat

// Set reproduces the slot layout of a CPython 3.11 set, so that its
// iteration order (Keys) is the one Python code would see. Only what
// upstream's candidate search does with its sets is modelled: adding
// keys one by one (set(genexpr), set.add) and s |= t. There are no
// deletions, so no dummy slots. Each key comes with its Python hash.
type Set[K comparable] struct {
	slots []slot[K]
	fill  int
}

type slot[K comparable] struct {
	key  K
	hash uint64
	full bool
}

// CPython's probing constants (Objects/setobject.c).
const (
	linearProbes = 9
	perturbShift = 5
	minSize      = 8
)

// NewSet returns an empty set of minimum size.
func NewSet[K comparable]() *Set[K] {
	return &Set[K]{slots: make([]slot[K], minSize)}
}

// Len is the number of keys.
func (s *Set[K]) Len() int { return s.fill }

// Keys lists the keys in iteration order.
func (s *Set[K]) Keys() []K {
	out := make([]K, 0, s.fill)
	for _, e := range s.slots {
		if e.full {
			out = append(out, e.key)
		}
	}
	return out
}

// Add inserts key (hash is Python's hash of it) unless present.
func (s *Set[K]) Add(key K, hash uint64) {
	if !s.insert(key, hash, true) {
		return
	}
	s.fill++
	if s.fill*5 >= (len(s.slots)-1)*3 {
		grow := 4
		if s.fill > 50000 {
			grow = 2
		}
		s.resize(s.fill * grow)
	}
}

// Update is s |= other (set_merge): one resize up front when the two
// together would pass 3/5 full, then a slot-for-slot copy into an empty
// set of the same size, a clean insertion into any other empty set, or
// plain additions.
func (s *Set[K]) Update(other *Set[K]) {
	if other == s || other.fill == 0 {
		return
	}
	if (s.fill+other.fill)*5 >= (len(s.slots)-1)*3 {
		s.resize((s.fill + other.fill) * 2)
	}
	switch {
	case s.fill == 0 && len(s.slots) == len(other.slots):
		copy(s.slots, other.slots)
		s.fill = other.fill
	case s.fill == 0:
		for _, e := range other.slots {
			if e.full {
				s.insert(e.key, e.hash, false)
			}
		}
		s.fill = other.fill
	default:
		for _, e := range other.slots {
			if e.full {
				s.Add(e.key, e.hash)
			}
		}
	}
}

// resize moves the keys, in slot order, into the smallest table of at
// least minSize slots that is larger than minUsed.
func (s *Set[K]) resize(minUsed int) {
	size := minSize
	for size <= minUsed {
		size <<= 1
	}
	old := s.slots
	s.slots = make([]slot[K], size)
	for _, e := range old {
		if e.full {
			s.insert(e.key, e.hash, false)
		}
	}
}

// insert places key at the first free slot of its probe sequence and
// reports whether it did; with compare, a slot holding an equal key on
// the way stops it.
func (s *Set[K]) insert(key K, hash uint64, compare bool) bool {
	mask := uint64(len(s.slots) - 1)
	i, perturb := hash&mask, hash
	for {
		probes := uint64(0)
		if i+linearProbes <= mask {
			probes = linearProbes
		}
		for j := i; j <= i+probes; j++ {
			e := &s.slots[j]
			if !e.full {
				*e = slot[K]{key: key, hash: hash, full: true}
				return true
			}
			if compare && e.hash == hash && e.key == key {
				return false
			}
		}
		perturb >>= perturbShift
		i = (i*5 + 1 + perturb) & mask
	}
}

// IntSetOrder returns the distinct non-negative ints of ids in the
// iteration order of CPython's set(ids) (negative ids are dropped).
func IntSetOrder(ids []int) []int {
	s := NewSet[int]()
	for _, id := range ids {
		if id >= 0 {
			s.Add(id, IntHash(int64(id)))
		}
	}
	return s.Keys()
}

// IntHash is CPython's hash of an int: the value modulo 2**61-1, keeping
// the sign; -1 becomes -2.
func IntHash(v int64) uint64 {
	const modulus = 1<<61 - 1
	h := v % modulus
	if h == -1 {
		h = -2
	}
	return uint64(h)
}

// TupleHash is CPython 3.11's hash of a tuple (or namedtuple) of items
// with the given hashes: the xxHash-based tuplehash.
func TupleHash(items ...uint64) uint64 {
	const (
		prime1 = 11400714785074694791
		prime2 = 14029467366897019727
		prime5 = 2870177450012600261
	)
	acc := uint64(prime5)
	for _, lane := range items {
		acc += lane * prime2
		acc = acc<<31 | acc>>33
		acc *= prime1
	}
	acc += uint64(len(items)) ^ (prime5 ^ 3527539)
	if acc == ^uint64(0) {
		return 1546275796
	}
	return acc
}
