// Command cubin compiles the decode engine's kernels (runtime/gpudecode's
// kernels.cu, with the NVRTC options the engine would use for the given
// settings) to a cubin file, without a GPU, so that the machine code can be
// read with NVIDIA's disassembler:
//
//	go run ./bench/cubin -o /tmp/k.cubin -rank 64 -set NF4Decode=lutw
//	nvdisasm -c /tmp/k.cubin | less
//
// nvdisasm is in Debian's nvidia-cuda-toolkit package (non-free); it runs
// unpacked without its dependencies: apt-get download nvidia-cuda-toolkit
// && dpkg -x nvidia-cuda-toolkit_*.deb x && x/usr/bin/nvdisasm.
// It needs NVRTC (libnvrtc, see runtime/cuda).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/schemac-dev/schemac/runtime/cuda"
	"github.com/schemac-dev/schemac/runtime/gpudecode"
)

func main() {
	out := flag.String("o", "kernels.cubin", "output file")
	arch := flag.String("arch", "sm_90", "GPU architecture")
	rank := flag.Int("rank", 64, "LoRA rank (0: none)")
	set := flag.String("set", "", "engine options, as in "+gpudecode.OptionsEnv+" (Name=value,…)")
	flag.Parse()
	if err := run(*out, *arch, *rank, *set); err != nil {
		fmt.Fprintln(os.Stderr, "cubin:", err)
		os.Exit(1)
	}
}

func run(out, arch string, rank int, set string) error {
	if err := gpudecode.SetOptions(set); err != nil {
		return err
	}
	src, opts := gpudecode.KernelSource(rank)
	bin, err := cuda.CompileCUBIN("kernels.cu", src, arch, opts...)
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, bin, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "cubin: %s (%d bytes, %s, options %v)\n", out, len(bin), arch, opts)
	return nil
}
