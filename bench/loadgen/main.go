// The bench's load generator: a closed loop over HTTP/1.1 keep-alive, in
// native code so that the CPU it takes per request is small next to what it
// measures. `connections` TCP connections each send a request as soon as the
// previous one is answered, for `seconds`, cycling through `requests`; every
// response's status and latency is recorded. Standard library only; built by
// bench/native-load.ts into the user cache.
//
// Input (stdin), one JSON object:
//
//	{"port":8080,"connections":4,"seconds":15,"timeoutMs":10000,
//	 "requests":[{"method":"POST","path":"/x","headers":{"k":"v"},"body":"..."}]}
//
// Output (stdout), one JSON object:
//
//	{"seconds":15.0,"sent":123,"statuses":{"200":120},"errors":0,"latencies":{"200":[1.5,...]},"cpuMs":40.2}
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

type request struct {
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Headers map[string]string `json:"headers"`
	Body    *string           `json:"body"`
}

type options struct {
	Port        int       `json:"port"`
	Connections int       `json:"connections"`
	Seconds     float64   `json:"seconds"`
	TimeoutMs   int       `json:"timeoutMs"`
	Requests    []request `json:"requests"`
}

type result struct {
	Seconds   float64              `json:"seconds"`
	Sent      int                  `json:"sent"`
	Statuses  map[string]int       `json:"statuses"`
	Errors    int                  `json:"errors"`
	Latencies map[string][]float64 `json:"latencies"`
	// CPU time (user + system) this process took, ms: the load generator's own cost.
	CPUMs float64 `json:"cpuMs"`
}

func cpuMs() float64 {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		return 0
	}
	return float64(usage.Utime.Nano()+usage.Stime.Nano()) / 1e6
}

// The raw bytes of each request, built once: sending one is a single write.
func encode(port int, r request) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n", r.Method, r.Path, port)
	keys := make([]string, 0, len(r.Headers))
	for k := range r.Headers {
		// Host and Content-Length are this request's own, written here.
		if name := strings.ToLower(k); name != "host" && name != "content-length" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %s\r\n", k, r.Headers[k])
	}
	body := ""
	if r.Body != nil {
		body = *r.Body
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.WriteString(body)
	return []byte(b.String())
}

type worker struct {
	statuses  map[string]int
	latencies map[string][]float64
	sent      int
	errors    int
}

func (w *worker) run(opts options, raw [][]byte, first int, deadline time.Time) {
	timeout := time.Duration(opts.TimeoutMs) * time.Millisecond
	address := "127.0.0.1:" + strconv.Itoa(opts.Port)
	var conn net.Conn
	var reader *bufio.Reader
	next := first
	for time.Now().Before(deadline) {
		if conn == nil {
			c, err := net.DialTimeout("tcp", address, timeout)
			if err != nil {
				w.errors++
				time.Sleep(10 * time.Millisecond)
				continue
			}
			conn, reader = c, bufio.NewReaderSize(c, 16384)
		}
		payload := raw[next%len(raw)]
		next++
		w.sent++
		start := time.Now()
		_ = conn.SetDeadline(start.Add(timeout))
		response, err := func() (*http.Response, error) {
			if _, err := conn.Write(payload); err != nil {
				return nil, err
			}
			response, err := http.ReadResponse(reader, nil)
			if err != nil {
				return nil, err
			}
			_, err = io.Copy(io.Discard, response.Body)
			response.Body.Close()
			return response, err
		}()
		if err != nil {
			// A request still unanswered at the deadline is neither answered nor lost, as with autocannon.
			if !time.Now().Before(deadline) {
				w.sent--
			} else {
				w.errors++
			}
			conn.Close()
			conn = nil
			continue
		}
		ms := float64(time.Since(start).Microseconds()) / 1000
		key := strconv.Itoa(response.StatusCode)
		w.statuses[key]++
		w.latencies[key] = append(w.latencies[key], ms)
		if response.Close {
			conn.Close()
			conn = nil
		}
	}
	if conn != nil {
		conn.Close()
	}
}

func main() {
	var opts options
	if err := json.NewDecoder(os.Stdin).Decode(&opts); err != nil {
		fmt.Fprintf(os.Stderr, "loadgen: bad options: %v\n", err)
		os.Exit(2)
	}
	if opts.Connections < 1 || opts.Seconds <= 0 || len(opts.Requests) == 0 || opts.Port <= 0 {
		fmt.Fprintln(os.Stderr, "loadgen: port, connections, seconds and requests are required")
		os.Exit(2)
	}
	if opts.TimeoutMs <= 0 {
		opts.TimeoutMs = 10000
	}
	raw := make([][]byte, len(opts.Requests))
	for i, r := range opts.Requests {
		raw[i] = encode(opts.Port, r)
	}
	workers := make([]*worker, opts.Connections)
	started := time.Now()
	deadline := started.Add(time.Duration(opts.Seconds * float64(time.Second)))
	var wg sync.WaitGroup
	for i := range workers {
		workers[i] = &worker{statuses: map[string]int{}, latencies: map[string][]float64{}}
		wg.Add(1)
		go func(w *worker, first int) {
			defer wg.Done()
			w.run(opts, raw, first, deadline)
		}(workers[i], i)
	}
	wg.Wait()
	out := result{Seconds: time.Since(started).Seconds(), Statuses: map[string]int{}, Latencies: map[string][]float64{}}
	for _, w := range workers {
		out.Sent += w.sent
		out.Errors += w.errors
		for k, v := range w.statuses {
			out.Statuses[k] += v
		}
		for k, v := range w.latencies {
			out.Latencies[k] = append(out.Latencies[k], v...)
		}
	}
	out.CPUMs = cpuMs()
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintf(os.Stderr, "loadgen: %v\n", err)
		os.Exit(1)
	}
}
