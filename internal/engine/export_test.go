package engine

// SetTrace makes the generator run with opt tell trace the anchor of every
// candidate it generates.
func SetTrace(opt *Options, trace func(anchor int32)) { opt.trace = trace }

// StepRoots is the roots a funnel step keeps, ascending.
func StepRoots(s Step) []int32 { return s.roots }

// ClearStepRoots forgets them, for comparing steps by their counts.
func ClearStepRoots(s *Step) { s.roots = nil }

// SnapshotRoots is the snapshot's root providers.
func SnapshotRoots(s *Snapshot) []int32 { return s.roots }
