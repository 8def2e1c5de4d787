package ring_test

import (
	"go/parser"
	"go/token"
	"strings"
	"testing"
)

// TestPackageDoc: the package comment is the whole of doc.go's, so that go
// doc and pkg.go.dev show the layout that the C and Python peers are written
// from. A blank line between two of its paragraphs once cut it down to the
// last section, "Lifetimes and limits".
func TestPackageDoc(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "doc.go", nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	doc := f.Doc.Text()
	if !strings.HasPrefix(doc, "Package ring ") {
		t.Errorf("the package comment starts %q, want \"Package ring ...\"", doc[:min(len(doc), 60)])
	}
	for _, section := range []string{"# Use", "# Crash safety", "# Layout, version 2", "# Atomic rules", "# Performance", "# Lifetimes and limits"} {
		if !strings.Contains(doc, section+"\n") {
			t.Errorf("the package comment has no section %q", section)
		}
	}
}
