// Command etcd is the etcd server at the version k8s.io/kubernetes pins (the Debian package is
// older than kube-apiserver accepts). It is etcd's own main, nothing more.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
