// Command signals checks a static Go program's signals and preemption under
// preld: with one P, a goroutine spinning in a loop without calls lets the
// main goroutine run again only through asynchronous preemption (the
// runtime's SIGURG); os/signal receives SIGUSR1 and SIGHUP sent to the
// process itself; a timer fires while goroutines block in system calls.
// Its output is deterministic.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
)

var spins uint64

func spin(stop *int32) {
	x := uint64(0)
	for atomic.LoadInt32(stop) == 0 {
		x++
		if x%(1<<20) == 0 {
			atomic.StoreUint64(&spins, x)
		}
	}
}

func main() {
	runtime.GOMAXPROCS(1)
	var stop int32
	go spin(&stop)
	// The spinning goroutine never yields: main runs again only when the
	// runtime preempts it.
	time.Sleep(50 * time.Millisecond)
	atomic.StoreInt32(&stop, 1)
	fmt.Println("main ran again while a goroutine spun: yes")

	ch := make(chan os.Signal, 2)
	signal.Notify(ch, syscall.SIGUSR1, syscall.SIGHUP)
	for _, s := range []syscall.Signal{syscall.SIGUSR1, syscall.SIGHUP} {
		if err := syscall.Kill(os.Getpid(), s); err != nil {
			fmt.Println("kill:", err)
			os.Exit(1)
		}
		select {
		case got := <-ch:
			fmt.Println("os/signal received:", got)
		case <-time.After(5 * time.Second):
			fmt.Println("os/signal: nothing received for", s)
			os.Exit(1)
		}
	}
	signal.Stop(ch)

	r, w, err := os.Pipe()
	if err != nil {
		fmt.Println("pipe:", err)
		os.Exit(1)
	}
	done := make(chan int, 1)
	go func() {
		b := make([]byte, 1)
		n, _ := r.Read(b)
		done <- n
	}()
	t := time.AfterFunc(20*time.Millisecond, func() { w.Write([]byte("x")) })
	defer t.Stop()
	fmt.Println("read woken by a timer's write:", <-done, "byte")
}
