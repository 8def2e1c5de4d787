//go:build mpich

package cloop

// #cgo pkg-config: mpich
import "C"
