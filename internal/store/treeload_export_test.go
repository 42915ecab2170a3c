package store

// Test hooks for treeload_test.go.
var (
	SelectedTreeLoadsForTest  = []string{loadProvidersSelSQL, loadInventoriesSelSQL, loadTraitsSelSQL, loadAggregatesSelSQL}
	GenericNestedLoopsForTest = genericNestedLoops
)
