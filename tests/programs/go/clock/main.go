// Command clock prints the wall clock as a static Go program reads it, for
// tests/tests/clock.rs (virtual time): time.Now() (the vDSO), the raw
// gettimeofday system call, and a timer's length on the monotonic clock.
package main

import (
	"fmt"
	"syscall"
	"time"
)

func main() {
	now := time.Now()
	fmt.Printf("now %.9f\n", float64(now.UnixNano())/1e9)
	fmt.Printf("utc %s\n", now.UTC().Format(time.RFC3339Nano))
	var tv syscall.Timeval
	if err := syscall.Gettimeofday(&tv); err != nil {
		fmt.Println("gettimeofday:", err)
	}
	fmt.Printf("raw_gettimeofday %d.%06d\n", tv.Sec, tv.Usec)
	start := time.Now()
	<-time.After(200 * time.Millisecond)
	fmt.Printf("timer %.9f\n", time.Since(start).Seconds())
}
