// revref — test oracle for logbook's ControllerRevision data and names.
//
// For every CloneSet in the corpus directory (tests/revision/*.json) it runs
// the steps OpenKruise's CloneSet controller takes to name a revision
// (pkg/controller/cloneset/revision getPatch, then NewControllerRevision of
// k8s.io/kubernetes/pkg/controller/history) with the real Kubernetes Go
// types and the real history package, and writes <case>.want next to it:
//
//	line 1: the revision name (or "error: <decode error>")
//	line 2: the revision data, byte for byte
//
// It is not shipped code. It builds only inside the Kubernetes v1.20.2
// source tree the real-cluster kit unpacks (vendored dependencies, no
// network); `make revref` (tests/tools/revref.sh) copies it there and runs:
//
//	cd /opt/kube/src/kubernetes-*/ && GOFLAGS=-mod=vendor GOPROXY=off \
//	    go run ./logbook-revref <corpus-dir>
//
// Decoding uses apimachinery's case-sensitive json-iterator (what the
// v1.20 json serializer decodes objects with); encoding uses encoding/json
// as the serializer's Encode does, then the getPatch map round trip.
package main

import (
	"encoding/json"
	"fmt"
	"io/ioutil"
	"os"
	"path/filepath"
	"sort"
	"strings"

	apps "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/kubernetes/pkg/controller/history"
)

// cloneSet is shaped like apps.kruise.io/v1alpha1 CloneSet as far as
// getPatch reads it: the typed pod template under spec.
type cloneSet struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              struct {
		Template v1.PodTemplateSpec `json:"template"`
	} `json:"spec"`
	Status struct {
		CollisionCount *int32 `json:"collisionCount,omitempty"`
	} `json:"status,omitempty"`
}

// getPatch is upstream's (kruise cloneset/revision), with runtime.Encode
// replaced by the json.NewEncoder the serializer's Encode uses.
func getPatch(cs *cloneSet) ([]byte, error) {
	str, err := json.Marshal(cs)
	if err != nil {
		return nil, err
	}
	var raw map[string]interface{}
	_ = json.Unmarshal(str, &raw)
	objCopy := make(map[string]interface{})
	specCopy := make(map[string]interface{})
	spec := raw["spec"].(map[string]interface{})
	template := spec["template"].(map[string]interface{})
	// clonesetcore SetRevisionTemplate
	specCopy["template"] = template
	template["$patch"] = "replace"
	objCopy["spec"] = specCopy
	return json.Marshal(objCopy)
}

func one(in []byte) string {
	cs := &cloneSet{}
	if err := kjson.CaseSensitiveJSONIterator().Unmarshal(in, cs); err != nil {
		return "error: decode\n"
	}
	patch, err := getPatch(cs)
	if err != nil {
		return "error: patch\n"
	}
	// kruise getActiveRevisions: a local copy of status.collisionCount,
	// 0 when nil, always passed as a non-nil pointer
	var collisionCount int32
	if cs.Status.CollisionCount != nil {
		collisionCount = *cs.Status.CollisionCount
	}
	cr := &apps.ControllerRevision{Data: runtime.RawExtension{Raw: patch}}
	hash := history.HashControllerRevision(cr, &collisionCount)
	return history.ControllerRevisionName(cs.Name, hash) + "\n" + string(patch) + "\n"
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: revref <corpus-dir>")
		os.Exit(2)
	}
	files, err := filepath.Glob(filepath.Join(os.Args[1], "*.json"))
	if err != nil || len(files) == 0 {
		fmt.Fprintln(os.Stderr, "revref: no *.json in", os.Args[1])
		os.Exit(1)
	}
	sort.Strings(files)
	for _, f := range files {
		in, err := ioutil.ReadFile(f)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		out := strings.TrimSuffix(f, ".json") + ".want"
		if err := ioutil.WriteFile(out, []byte(one(in)), 0644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
