package bench

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
)

// WriteDoc rewrites one suite's section of the benchmarks document (creating the document when
// missing) and keeps the other suite's section as it was.
func WriteDoc(path, suite string, rows []Row, o Options, took time.Duration) error {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	sections := map[string]string{
		"bench":   "## `make bench`\n\nNot run yet.\n",
		"compare": "## `make bench-compare`\n\nNot run yet.\n",
	}
	for name := range sections {
		if body, ok := section(string(old), name); ok {
			sections[name] = body
		}
	}
	switch suite {
	case "bench":
		sections[suite] = benchSection(rows, o, took)
	case "compare":
		sections[suite] = compareSection(rows, o, took)
	default:
		return fmt.Errorf("unknown suite %q", suite)
	}
	var b strings.Builder
	b.WriteString(docIntro())
	for _, name := range []string{"bench", "compare"} {
		fmt.Fprintf(&b, "\n<!-- %s:begin -->\n%s<!-- %s:end -->\n", name, sections[name], name)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func section(doc, name string) (string, bool) {
	begin, end := "<!-- "+name+":begin -->\n", "<!-- "+name+":end -->"
	i := strings.Index(doc, begin)
	j := strings.Index(doc, end)
	if i < 0 || j < i {
		return "", false
	}
	return doc[i+len(begin) : j], true
}

// machine describes where the figures were taken: model time stretches with the CPU time a
// loaded machine steals from the tools.
func machine() string {
	load := ""
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			load = fmt.Sprintf(", load average %s/%s/%s when it ended", f[0], f[1], f[2])
		}
	}
	return fmt.Sprintf("%s/%s, %d CPUs%s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), load)
}

func benchSection(rows []Row, o Options, took time.Duration) string {
	var b strings.Builder
	b.WriteString("## `make bench`\n\n")
	fmt.Fprintf(&b, "Measured %s on %s; devcloud time scale %g for the library scenarios (1 for the refresh); %s of wall time.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), machine(), o.Scale, took.Round(time.Second))
	b.WriteString(markdownTable(rows))
	b.WriteString("\n<details><summary>Calls by route</summary>\n")
	b.WriteString(routeDetails(rows))
	b.WriteString("\n</details>\n")
	return b.String()
}

func compareSection(rows []Row, o Options, took time.Duration) string {
	var b strings.Builder
	b.WriteString("## `make bench-compare`\n\n")
	fmt.Fprintf(&b, "Measured %s on %s; devcloud time scale %g (model seconds are wall seconds); %s of wall time. "+
		"Both providers through the Terraform CLI with `-parallelism=%d` (and `max_parallel` the same), each from a fresh devcloud, "+
		"but for the last scale-out, where both are raised to the pool's size; measured is the whole "+
		"`terraform apply` (or `plan`), and for a scale-out until the last new member is ONLINE if that comes later.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), machine(), o.CompareScale, took.Round(time.Second), benchParallel)
	b.WriteString(markdownTable(rows))
	b.WriteString("\n")
	b.WriteString(markdownComparison(Compare(rows, "eventscale", Peer("").Name)))
	b.WriteString("\n<details><summary>Calls by route</summary>\n")
	b.WriteString(routeDetails(rows))
	b.WriteString("\n</details>\n")
	return b.String()
}
