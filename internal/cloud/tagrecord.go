package cloud

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// maxTagLength is Octavia's limit on one tag.
const maxTagLength = 255

// EncodeTagRecord spreads data over tags "<prefix><i>/<n>=<chunk>", each within Octavia's 255
// characters, so that a small record can live on a cloud object that only has tags.
func EncodeTagRecord(prefix, data string) []string {
	head := len(prefix) + len("00/00=")
	size := maxTagLength - head
	if size < 16 {
		size = 16
	}
	var chunks []string
	for rest := data; ; {
		n := min(size, len(rest))
		// Never split a UTF-8 sequence: Octavia counts characters, a half rune is no character.
		for n < len(rest) && n > 0 && !utf8Start(rest[n]) {
			n--
		}
		chunks = append(chunks, rest[:n])
		rest = rest[n:]
		if rest == "" {
			break
		}
	}
	out := make([]string, len(chunks))
	for i, c := range chunks {
		out[i] = fmt.Sprintf("%s%d/%d=%s", prefix, i+1, len(chunks), c)
	}
	return out
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// DecodeTagRecord reassembles a record written by EncodeTagRecord; ok is false when no complete
// record with that prefix is among the tags.
func DecodeTagRecord(prefix string, tags []string) (data string, ok bool) {
	parts := map[int]string{}
	total := -1
	for _, t := range tags {
		rest, found := strings.CutPrefix(t, prefix)
		if !found {
			continue
		}
		pos, chunk, found := strings.Cut(rest, "=")
		if !found {
			continue
		}
		is, ns, found := strings.Cut(pos, "/")
		if !found {
			continue
		}
		i, err1 := strconv.Atoi(is)
		n, err2 := strconv.Atoi(ns)
		if err1 != nil || err2 != nil || i < 1 || n < 1 || i > n || (total >= 0 && n != total) {
			return "", false
		}
		total = n
		parts[i] = chunk
	}
	if total < 0 || len(parts) != total {
		return "", false
	}
	keys := make([]int, 0, total)
	for i := range parts {
		keys = append(keys, i)
	}
	sort.Ints(keys)
	var b strings.Builder
	for _, i := range keys {
		b.WriteString(parts[i])
	}
	return b.String(), true
}

// WithTagRecord returns tags with every tag of the prefix replaced by the record's (or removed
// when data is ""), the other tags kept in their order.
func WithTagRecord(tags []string, prefix, data string) []string {
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		if !strings.HasPrefix(t, prefix) {
			out = append(out, t)
		}
	}
	if data == "" {
		return out
	}
	return append(out, EncodeTagRecord(prefix, data)...)
}
