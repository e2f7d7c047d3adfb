/**
 * What keeps a container from the Pod Security Standards' "restricted" profile
 * (https://kubernetes.io/docs/concepts/security/pod-security-standards/): privilege escalation,
 * capabilities beyond none, a seccomp profile other than the runtime's default, root, a writable
 * root filesystem (not in the profile itself, which the chart adds: what a container writes goes
 * to a volume). runAsNonRoot, runAsUser and seccompProfile may be set for the whole pod; the rest
 * only per container.
 */

export interface SecurityContext {
  readonly runAsNonRoot?: boolean;
  readonly runAsUser?: number;
  readonly readOnlyRootFilesystem?: boolean;
  readonly allowPrivilegeEscalation?: boolean;
  readonly privileged?: boolean;
  readonly capabilities?: { readonly drop?: readonly string[]; readonly add?: readonly string[] };
  readonly seccompProfile?: { readonly type?: string };
}

/**
 * The problems of a container's securityContext ([] when none); `asRoot`: the image's user is
 * allowed (root), with a writable root filesystem, and only the rest is checked.
 */
export function restrictedProblems(
  container: { readonly securityContext?: SecurityContext },
  pod: { readonly securityContext?: SecurityContext },
  opts: { readonly asRoot?: boolean } = {},
): string[] {
  const sc = container.securityContext ?? {};
  const podSc = pod.securityContext ?? {};
  const runAsNonRoot = sc.runAsNonRoot ?? podSc.runAsNonRoot;
  const runAsUser = sc.runAsUser ?? podSc.runAsUser;
  const seccomp = sc.seccompProfile?.type ?? podSc.seccompProfile?.type;
  const problems: string[] = [];
  if (sc.allowPrivilegeEscalation !== false) problems.push('allowPrivilegeEscalation is not false');
  if (sc.privileged === true) problems.push('privileged');
  if (!sc.capabilities?.drop?.includes('ALL')) problems.push('capabilities: ALL not dropped');
  if ((sc.capabilities?.add ?? []).length > 0) problems.push(`capabilities added: ${sc.capabilities?.add}`);
  if (seccomp !== 'RuntimeDefault') problems.push(`seccompProfile ${seccomp}`);
  if (!opts.asRoot) {
    if (runAsNonRoot !== true) problems.push('runAsNonRoot is not true');
    if (runAsUser === 0) problems.push('runAsUser 0');
    if (sc.readOnlyRootFilesystem !== true) problems.push('root filesystem writable');
  }
  return problems;
}
