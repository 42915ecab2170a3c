package engine

// SetTrace makes the generator run with opt tell trace the anchor of every
// candidate it generates.
func SetTrace(opt *Options, trace func(anchor int32)) { opt.trace = trace }
