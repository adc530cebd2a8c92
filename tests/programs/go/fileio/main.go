// Command fileio checks a static Go program doing file I/O from many
// goroutines under preld: 100 goroutines each create, write (fsync once),
// read back, rename, stat and delete files in a directory made under the one
// named on the command line, while the runtime moves them between threads;
// then os/exec runs /bin/true, /bin/echo, /bin/false and a missing program.
// Its output is deterministic.
package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
)

const (
	workers = 100
	files   = 20
)

func work(dir string, id int) (sum [32]byte, err error) {
	h := sha256.New()
	for i := 0; i < files; i++ {
		name := filepath.Join(dir, fmt.Sprintf("w%03d-f%02d", id, i))
		data := bytes.Repeat([]byte(fmt.Sprintf("worker %d file %d\n", id, i)), 50+i)
		f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err != nil {
			return sum, err
		}
		if _, err := f.Write(data); err != nil {
			return sum, err
		}
		if i == 0 {
			// One fsync per worker: they are slow on some disks.
			if err := f.Sync(); err != nil {
				return sum, err
			}
		}
		if err := f.Close(); err != nil {
			return sum, err
		}
		moved := name + ".moved"
		if err := os.Rename(name, moved); err != nil {
			return sum, err
		}
		st, err := os.Stat(moved)
		if err != nil {
			return sum, err
		}
		if st.Size() != int64(len(data)) {
			return sum, fmt.Errorf("%s: size %d, want %d", moved, st.Size(), len(data))
		}
		back, err := os.ReadFile(moved)
		if err != nil {
			return sum, err
		}
		if !bytes.Equal(back, data) {
			return sum, fmt.Errorf("%s: read back differs", moved)
		}
		h.Write(back)
		if err := os.Remove(moved); err != nil {
			return sum, err
		}
	}
	copy(sum[:], h.Sum(nil))
	return sum, nil
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: fileio DIR")
		os.Exit(2)
	}
	dir, err := os.MkdirTemp(os.Args[1], "fileio-")
	if err != nil {
		fmt.Println("mkdtemp:", err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)

	sums := make([][32]byte, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func(id int) {
			defer wg.Done()
			sums[id], errs[id] = work(dir, id)
		}(i)
	}
	wg.Wait()
	failed := 0
	for i, e := range errs {
		if e != nil {
			failed++
			if failed <= 5 {
				fmt.Printf("worker %d: %v\n", i, e)
			}
		}
	}
	all := sha256.New()
	for _, s := range sums {
		all.Write(s[:])
	}
	left, _ := os.ReadDir(dir)
	fmt.Printf("workers=%d files each=%d failed=%d left over=%d sha256=%x\n", workers, files, failed, len(left), all.Sum(nil))

	// os/exec: fork+exec (clone(CLONE_VFORK|CLONE_VM) in Go's runtime), pipes.
	for i := 0; i < 3; i++ {
		if err := exec.Command("/bin/true").Run(); err != nil {
			fmt.Printf("/bin/true #%d: %v\n", i, err)
		}
	}
	outs := make([]string, 4)
	var ewg sync.WaitGroup
	for i := range outs {
		ewg.Add(1)
		go func(i int) {
			defer ewg.Done()
			out, err := exec.Command("/bin/echo", "echo", fmt.Sprint(i)).Output()
			if err != nil {
				outs[i] = "error: " + err.Error()
				return
			}
			outs[i] = string(out)
		}(i)
	}
	ewg.Wait()
	sort.Strings(outs)
	fmt.Printf("exec /bin/true x3 done; concurrent /bin/echo outputs: %q\n", outs)
	err = exec.Command("/bin/false").Run()
	fmt.Printf("/bin/false: %v\n", err)
	err = exec.Command("/nonexistent/program").Run()
	fmt.Printf("missing program: %v\n", err)
}
