package store

// Test hooks for treeload_test.go.
var (
	SelectedTreeLoadsForTest    = loadSelSQL
	ChangedTreeLoadsForTest     = loadChangedSQL
	ChangedProviderLoadsForTest = loadAloneChangedSQL
	RefreshForTest              = refreshSQL
	GenericNestedLoopsForTest   = genericNestedLoops
	ChangedRootsForTest         = selByChangesCTE + ` SELECT id FROM sel`
)
