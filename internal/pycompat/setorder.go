package pycompat

// IntSetOrder returns the distinct non-negative ints of ids in the
// iteration order of CPython's set(ids) (negative ids are dropped): open
// addressing on hash(i) = i, linear probes only when they fit before the
// end of the table, perturbed probing otherwise, growth to 4×used once the
// table is 3/5 full.
func IntSetOrder(ids []int) []int {
	const linearProbes, perturbShift = 9, 5
	table := emptyTable(8)
	fill := 0
	insert := func(table []int, key int) bool {
		mask := len(table) - 1
		i, perturb := key&mask, uint(key)
		for {
			probes := 0
			if i+linearProbes <= mask {
				probes = linearProbes
			}
			for j := i; j <= i+probes; j++ {
				switch table[j] {
				case key:
					return false
				case -1:
					table[j] = key
					return true
				}
			}
			perturb >>= perturbShift
			i = (i*5 + 1 + int(perturb)) & mask
		}
	}
	for _, id := range ids {
		if id < 0 || !insert(table, id) {
			continue
		}
		fill++
		if fill*5 < (len(table)-1)*3 {
			continue
		}
		size := 8
		for size <= fill*4 {
			size <<= 1
		}
		grown := emptyTable(size)
		for _, k := range table {
			if k >= 0 {
				insert(grown, k)
			}
		}
		table = grown
	}
	out := make([]int, 0, fill)
	for _, k := range table {
		if k >= 0 {
			out = append(out, k)
		}
	}
	return out
}

// emptyTable returns a hash table of size slots, each -1 (free).
func emptyTable(size int) []int {
	t := make([]int, size)
	for i := range t {
		t[i] = -1
	}
	return t
}
