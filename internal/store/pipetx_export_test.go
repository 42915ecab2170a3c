package store

// Test hooks for pipetx_test.go (package store_test cannot reach the
// unexported transaction helpers, and testdb imports this package).
var (
	WithTxForTest              = (*Store).withTx
	CommitWithNextBatchForTest = commitWithNextBatch
)
