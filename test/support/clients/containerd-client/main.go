// containerd-client drives containerd's own registry client (core/remotes/docker), the code
// every containerd and kubelet pull and every BuildKit push goes through, so geosync's tests see
// the requests containerd really makes: a tag resolved with HEAD manifests/<tag>, a digest with
// HEAD manifests/<digest> then HEAD blobs/<digest>, a push that checks each blob and manifest
// with HEAD before writing it. Plain HTTP, anonymous token auth (the registry's challenge names
// the realm; the authorizer asks for the scope each operation needs).
//
//	containerd-client resolve REF    prints the digest and media type REF resolves to
//	containerd-client pull REF       resolves, fetches the manifest and every blob it names (all
//	                                 platforms of an index), verifies each digest, prints the digest
//	containerd-client copy SRC DST   pulls SRC into a temporary content store, pushes it to DST
//	                                 with containerd's pusher, prints the digest
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/containerd/v2/core/remotes"
	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/containerd/containerd/v2/plugins/content/local"
	"github.com/containerd/platforms"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func resolver() remotes.Resolver {
	authorizer := docker.NewDockerAuthorizer()
	return docker.NewResolver(docker.ResolverOptions{
		Hosts: docker.ConfigureDefaultRegistries(
			docker.WithPlainHTTP(docker.MatchAllHosts),
			docker.WithAuthorizer(authorizer),
		),
	})
}

func fetchAll(ctx context.Context, r remotes.Resolver, ref string, store content.Store) (ocispec.Descriptor, error) {
	name, desc, err := r.Resolve(ctx, ref)
	if err != nil {
		return desc, fmt.Errorf("resolve %s: %w", ref, err)
	}
	fetcher, err := r.Fetcher(ctx, name)
	if err != nil {
		return desc, err
	}
	// remotes.FetchHandler writes through content.Writer, which checks each digest on commit.
	h := images.Handlers(remotes.FetchHandler(store, fetcher), images.ChildrenHandler(store))
	if err := images.Dispatch(ctx, h, nil, desc); err != nil {
		return desc, fmt.Errorf("fetch %s: %w", ref, err)
	}
	return desc, nil
}

func run(ctx context.Context, args []string) error {
	if len(args) < 2 {
		return fmt.Errorf("usage: containerd-client resolve|pull REF | copy SRC DST")
	}
	r := resolver()
	switch args[0] {
	case "resolve":
		_, desc, err := r.Resolve(ctx, args[1])
		if err != nil {
			return err
		}
		fmt.Printf("%s %s\n", desc.Digest, desc.MediaType)
		return nil
	case "pull", "copy":
		dir, err := os.MkdirTemp("", "containerd-client-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		store, err := local.NewStore(dir)
		if err != nil {
			return err
		}
		desc, err := fetchAll(ctx, r, args[1], store)
		if err != nil {
			return err
		}
		if args[0] == "copy" {
			if len(args) < 3 {
				return fmt.Errorf("copy needs SRC and DST")
			}
			pusher, err := r.Pusher(ctx, args[2])
			if err != nil {
				return err
			}
			if err := remotes.PushContent(ctx, pusher, desc, store, nil, platforms.All, nil); err != nil {
				return fmt.Errorf("push %s: %w", args[2], err)
			}
		}
		fmt.Printf("%s %s\n", desc.Digest, desc.MediaType)
		return nil
	}
	return fmt.Errorf("unknown command %q", args[0])
}

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "containerd-client:", err)
		os.Exit(1)
	}
}
