package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	lua "github.com/yuin/gopher-lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	luajson "layeh.com/gopher-json"
)

// Argo CD's health statuses (gitops-engine's pkg/health); a script returning anything else reads
// as Unknown.
var argoHealthStatuses = map[string]bool{
	"Healthy": true, "Progressing": true, "Degraded": true, "Suspended": true, "Missing": true,
	"Unknown": true,
}

// runArgoHealthScript runs a health script as Argo CD's application controller runs a
// `resource.customizations.health.<group>_<kind>` script from argocd-cm (util/lua in Argo CD):
// gopher-lua, the Lua 5.1 VM Argo CD embeds, with only the package, base and table libraries
// opened (no `string`, no global `os`: argocd-cm scripts run without Lua's standard libraries
// unless `useOpenLibs` is set), a `require`-able `os` offering only `time`, the `json` module,
// a one-second budget, the object as the global `obj`, and the returned table read through JSON
// into a status and a message.
func runArgoHealthScript(obj *unstructured.Unstructured, script string) (*result, error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
	} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), NRet: 0, Protect: true},
			lua.LString(lib.name)); err != nil {
			return nil, fmt.Errorf("opening Lua library %q: %w", lib.name, err)
		}
	}
	l.PreloadModule(lua.OsLibName, func(l *lua.LState) int {
		l.Push(l.SetFuncs(l.NewTable(), map[string]lua.LGFunction{
			"time": func(l *lua.LState) int {
				l.Push(lua.LNumber(time.Now().Unix()))
				return 1
			},
		}))
		return 1
	})
	luajson.Preload(l)

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", toLua(l, obj.Object))
	if err := l.DoString(script); err != nil {
		return nil, fmt.Errorf("the health script failed: %w", err)
	}
	returned := l.Get(-1)
	if returned.Type() != lua.LTTable {
		return nil, fmt.Errorf("expect table output from Lua script, not %s", returned.Type())
	}
	encoded, err := luajson.Encode(returned)
	if err != nil {
		return nil, fmt.Errorf("encoding the script's table: %w", err)
	}
	var health result
	if err := json.Unmarshal(encoded, &health); err != nil {
		return nil, fmt.Errorf("reading the script's table %s: %w", encoded, err)
	}
	if !argoHealthStatuses[health.Status] {
		return &result{Status: "Unknown", Message: "Lua returned an invalid health status"}, nil
	}
	return &health, nil
}

// toLua converts an unstructured object's value into Lua as Argo CD does: integers become
// numbers, JSON null and anything unknown become nil.
func toLua(l *lua.LState, value interface{}) lua.LValue {
	switch v := value.(type) {
	case bool:
		return lua.LBool(v)
	case string:
		return lua.LString(v)
	case json.Number:
		return lua.LString(v)
	case float64:
		return lua.LNumber(v)
	case int:
		return lua.LNumber(v)
	case int32:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	case []interface{}:
		t := l.CreateTable(len(v), 0)
		for _, item := range v {
			t.Append(toLua(l, item))
		}
		return t
	case map[string]interface{}:
		t := l.CreateTable(0, len(v))
		for key, item := range v {
			t.RawSetH(lua.LString(key), toLua(l, item))
		}
		return t
	default:
		return lua.LNil
	}
}
