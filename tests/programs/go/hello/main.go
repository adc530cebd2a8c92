// Command hello checks a static Go program under preld: many goroutines
// (threads made by the runtime's raw clone), channels, a mutex, a timer,
// the garbage collector, and reading a file named on the command line.
// Its output is deterministic.
package main

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"os"
	"runtime"
	"sort"
	"sync"
	"time"
)

func work(id int) uint64 {
	var s uint64
	for i := uint64(id) * 100000; i < uint64(id+1)*100000; i++ {
		s += i * i % 1000003
	}
	return s
}

type result struct {
	id  int
	sum uint64
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: hello FILE")
		os.Exit(2)
	}
	const n = 200
	results := make(chan result)
	var wg sync.WaitGroup
	var mu sync.Mutex
	garbage := 0
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(id int) {
			defer wg.Done()
			// Allocate so that the collector runs while goroutines are live.
			buf := make([]byte, 64<<10)
			buf[id] = byte(id)
			mu.Lock()
			garbage += len(buf)
			mu.Unlock()
			if id%10 == 0 {
				time.Sleep(time.Millisecond)
			}
			results <- result{id, work(id)}
		}(i)
	}
	go func() { wg.Wait(); close(results) }()
	all := make([]result, 0, n)
	for r := range results {
		all = append(all, r)
	}
	runtime.GC()
	sort.Slice(all, func(a, b int) bool { return all[a].id < all[b].id })
	var total uint64
	for _, r := range all {
		total += r.sum
	}
	fmt.Printf("goroutines=%d first=%d last=%d total=%d garbage=%d\n", len(all), all[0].sum, all[n-1].sum, total, garbage)

	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(1)
	}
	defer f.Close()
	h := sha256.New()
	lines := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines++
		h.Write(sc.Bytes())
		h.Write([]byte{'\n'})
	}
	if err := sc.Err(); err != nil {
		fmt.Println("read:", err)
		os.Exit(1)
	}
	fmt.Printf("file lines=%d sha256=%x\n", lines, h.Sum(nil))
	select {
	case <-time.After(5 * time.Millisecond):
		fmt.Println("timer fired")
	}
}
