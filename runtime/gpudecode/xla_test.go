//go:build xla

package gpudecode

// Built with -tags xla, the tests link the XLA backend and run the engine
// on a GPU (see engine_test.go):
//
//	go test -c -tags xla -o bin/gpudecode.test ./runtime/gpudecode
//	cd runtime/gpudecode && SCHEMAC_TEST_BACKEND=xla:/path/to/xla_cuda_plugin.so \
//	    GOMLX_NO_AUTO_INSTALL=1 ../../bin/gpudecode.test -test.v
import _ "github.com/gomlx/gomlx/backends/xla"
