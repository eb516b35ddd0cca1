package gpudecode

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

// OptionsEnv names the environment variable New reads engine options
// from, so that a binary built with the defaults (cmd/extract) can try
// another setting without a rebuild: a comma-separated list of
// name=value, names as the package variables they set, for example
// SCHEMAC_GPUDECODE=EarlyLoRA=true,NF4Rows=2.
const OptionsEnv = "SCHEMAC_GPUDECODE"

// options are the package variables OptionsEnv may set.
var options = map[string]any{
	"NF4Rows": &NF4Rows, "BF16Rows": &BF16Rows, "NF4Threads": &NF4Threads, "NF4MinBlocks": &NF4MinBlocks,
	"NF4Decode": &NF4Decode, "FuseNorm": &FuseNorm, "EarlyLaunch": &EarlyLaunch,
	"EarlyLoRA": &EarlyLoRA, "ChunkMMA": &ChunkMMA,
	"MMATiles": &MMATiles, "MMAFrom": &MMAFrom, "DeviceSampling": &DeviceSampling,
	"Absmax16": &Absmax16, "LoRAThreads": &LoRAThreads,
}

// SetOptions sets the package variables named in spec (OptionsEnv's
// format). It changes nothing unless every entry is valid.
func SetOptions(spec string) error {
	type set struct {
		p any
		v string
	}
	var sets []set
	for _, kv := range strings.Split(spec, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		name, val, ok := strings.Cut(kv, "=")
		p, known := options[name]
		if !ok || !known {
			return fmt.Errorf("gpudecode: option %q: want name=value with a name among %s", kv, optionNames())
		}
		switch p.(type) {
		case *int:
			if _, err := strconv.Atoi(val); err != nil {
				return fmt.Errorf("gpudecode: option %s: %q is not an integer", name, val)
			}
		case *bool:
			if _, err := strconv.ParseBool(val); err != nil {
				return fmt.Errorf("gpudecode: option %s: %q is not true or false", name, val)
			}
		}
		sets = append(sets, set{p, val})
	}
	for _, s := range sets {
		switch p := s.p.(type) {
		case *int:
			*p, _ = strconv.Atoi(s.v)
		case *bool:
			*p, _ = strconv.ParseBool(s.v)
		case *string:
			*p = s.v
		}
	}
	return nil
}

// OptionsFromEnv applies OptionsEnv when it is set (New calls it; a
// command calls it first to refuse a bad setting whichever engine it
// picks).
func OptionsFromEnv() error {
	spec := os.Getenv(OptionsEnv)
	if spec == "" {
		return nil
	}
	if err := SetOptions(spec); err != nil {
		return fmt.Errorf("%s: %w", OptionsEnv, err)
	}
	return nil
}

func optionNames() string {
	var names []string
	for n := range options {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}
