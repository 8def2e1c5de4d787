package testutil

import (
	"context"
	"fmt"
	"reflect"
)

// MethodResult is what one method returned, or the panic it raised.
type MethodResult struct {
	Method string
	Panic  any   // non-nil if the method panicked
	Err    error // the last result, when it is an error
}

// CallEvery calls every exported method of handle (a pointer, nil or not)
// with zero arguments, context.Background for a context, and no variadic
// ones, and returns what each did: the check that nil and zero handles never
// panic covers the methods added later too.
func CallEvery(handle any) []MethodResult {
	v := reflect.ValueOf(handle)
	var results []MethodResult
	for i := range v.NumMethod() {
		m := v.Type().Method(i)
		results = append(results, callZero(m.Name, v.Method(i)))
	}
	return results
}

func callZero(name string, m reflect.Value) (r MethodResult) {
	r.Method = name
	defer func() {
		if p := recover(); p != nil {
			r.Panic = fmt.Sprint(p)
		}
	}()
	t := m.Type()
	var args []reflect.Value
	for i := range t.NumIn() {
		in := t.In(i)
		switch {
		case t.IsVariadic() && i == t.NumIn()-1:
		case in == reflect.TypeFor[context.Context]():
			args = append(args, reflect.ValueOf(context.Background()))
		default:
			args = append(args, reflect.Zero(in))
		}
	}
	out := m.Call(args)
	if n := len(out); n > 0 && t.Out(n-1) == reflect.TypeFor[error]() {
		r.Err, _ = out[n-1].Interface().(error)
	}
	return r
}
