package safetensors

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// IndexFile and SingleFile are the names of a Hugging Face checkpoint's
// weights: a shard index, or one file.
const (
	IndexFile  = "model.safetensors.index.json"
	SingleFile = "model.safetensors"
)

// Set is the tensors of a checkpoint, in one file or several shards.
type Set struct {
	Dir    string
	Files  []*File          // open files, in name order
	byName map[string]*File // tensor name → the file that holds it
	// Progress, when set, is called by Tensor after each tensor is found,
	// with the bytes of the tensors handed out so far and the total of all
	// tensors: callers print progress on stderr for large checkpoints.
	Progress  func(name string, done, total int64)
	done      int64
	totalSize int64
}

// OpenModel opens the weights of a checkpoint directory: the shards listed
// by model.safetensors.index.json when present, else model.safetensors.
// Errors name the directory, the index, the missing shard or the tensor.
func OpenModel(dir string) (*Set, error) {
	if st, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("model directory: %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("model directory %s is not a directory", dir)
	}
	index := filepath.Join(dir, IndexFile)
	if _, err := os.Stat(index); err == nil {
		return openSharded(dir, index)
	}
	single := filepath.Join(dir, SingleFile)
	if _, err := os.Stat(single); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s has neither %s nor %s", dir, SingleFile, IndexFile)
	}
	return OpenFiles(dir, single)
}

// OpenFiles opens the given files as one set; a tensor name may appear in
// only one of them.
func OpenFiles(dir string, paths ...string) (*Set, error) {
	s := &Set{Dir: dir, byName: map[string]*File{}}
	for _, p := range paths {
		f, err := Open(p)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.Files = append(s.Files, f)
		for _, t := range f.Header.Tensors {
			if other, dup := s.byName[t.Name]; dup {
				s.Close()
				return nil, errorf(p, t.Name, "also in %s", filepath.Base(other.Path))
			}
			s.byName[t.Name] = f
			s.totalSize += t.End - t.Begin
		}
	}
	return s, nil
}

type shardIndex struct {
	Metadata  map[string]any    `json:"metadata"`
	WeightMap map[string]string `json:"weight_map"`
}

func openSharded(dir, index string) (*Set, error) {
	text, err := os.ReadFile(index)
	if err != nil {
		return nil, &Error{File: index, Err: err}
	}
	var idx shardIndex
	if err := json.Unmarshal(text, &idx); err != nil {
		return nil, errorf(index, "", "%v", err)
	}
	if len(idx.WeightMap) == 0 {
		return nil, errorf(index, "", "weight_map is empty")
	}
	shards := map[string]bool{}
	for name, file := range idx.WeightMap {
		if file == "" || strings.ContainsAny(file, `/\`) || file == "." || file == ".." {
			return nil, errorf(index, name, "shard name %q is not a file name in the directory", file)
		}
		shards[file] = true
	}
	var paths []string
	for file := range shards {
		p := filepath.Join(dir, file)
		if _, err := os.Stat(p); err != nil {
			return nil, errorf(index, "", "shard %s: %v", file, err)
		}
		paths = append(paths, p)
	}
	sort.Strings(paths)
	s, err := OpenFiles(dir, paths...)
	if err != nil {
		return nil, err
	}
	for name, file := range idx.WeightMap {
		f, ok := s.byName[name]
		if !ok || filepath.Base(f.Path) != file {
			s.Close()
			return nil, errorf(filepath.Join(dir, file), name, "listed in %s but not in the shard", IndexFile)
		}
	}
	return s, nil
}

// Close closes every file.
func (s *Set) Close() error {
	var first error
	for _, f := range s.Files {
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Names returns all tensor names, sorted.
func (s *Set) Names() []string {
	names := make([]string, 0, len(s.byName))
	for n := range s.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Has reports whether a tensor is present.
func (s *Set) Has(name string) bool { _, ok := s.byName[name]; return ok }

// Info returns a tensor's header entry.
func (s *Set) Info(name string) (TensorInfo, bool) {
	f, ok := s.byName[name]
	if !ok {
		return TensorInfo{}, false
	}
	return f.Info(name)
}

// TotalSize is the number of data bytes of all tensors.
func (s *Set) TotalSize() int64 { return s.totalSize }

// Tensor returns a tensor (a view of its file) and reports progress.
func (s *Set) Tensor(name string) (Tensor, error) {
	f, ok := s.byName[name]
	if !ok {
		return Tensor{}, fmt.Errorf("%s: tensor %s: missing from the checkpoint", s.Dir, name)
	}
	t, err := f.Tensor(name)
	if err != nil {
		return t, err
	}
	s.done += t.End - t.Begin
	if s.Progress != nil {
		s.Progress(name, s.done, s.totalSize)
	}
	return t, nil
}

// Float32s reads a float tensor of the set as []float32, with its shape.
func (s *Set) Float32s(name string) ([]float32, []int, error) {
	t, err := s.Tensor(name)
	if err != nil {
		return nil, nil, err
	}
	v, err := t.Float32s()
	if err != nil {
		return nil, nil, withFile(err, s.byName[name].Path)
	}
	return v, t.Shape, nil
}
