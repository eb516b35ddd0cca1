//go:build xla

package model

// Built with -tags xla, the tests can run on the XLA backend:
//
//	SCHEMAC_TEST_BACKEND=xla:/path/to/xla_cuda_plugin.so GOMLX_NO_AUTO_INSTALL=1 \
//	    go test -tags xla ./runtime/model
//
// (the cache update then uses DynamicUpdateSlice, which simplego lacks).
import _ "github.com/gomlx/gomlx/backends/xla"
