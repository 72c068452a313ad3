/**
 * Supply-chain rules: packages fetched at launch without a fixed version.
 *
 * Titles and evidence quote the package identity, which the normalizer derives from the redacted
 * command line (a credential in an install spec never reaches it); they pass the text redactor
 * once more so that no future launcher parser can put a secret into a finding title (ASFF Title).
 */
import { redactText } from '../secrets/index.js';
import { serverSubject, type Rule, type RuleContext, type RuleHit } from './rule-types.js';

export const unpinnedPackageRule: Rule = {
  id: 'unpinned-package',
  severity: 'medium',
  title: 'MCP server package is not pinned',
  rationale:
    'The server is fetched at launch (npx, uvx, docker run, ...) without an exact version or image digest, so every ' +
    'start can run whatever the registry serves at that moment, including a compromised release. Pin an exact ' +
    'version (pkg@1.2.3, pkg==1.2.3) or an image digest (image@sha256:...).',
  evaluate(ctx: RuleContext): RuleHit[] {
    const hits: RuleHit[] = [];
    for (const { server } of ctx.views) {
      const p = server.package;
      if (!p || p.pinned || p.ecosystem === 'local') continue;
      const floating = p.version === null || /^(?:latest|next|main|master|stable|\*|x)$/i.test(p.version);
      const spec = `${p.ecosystem} ${p.name}${p.version ? (p.ecosystem === 'oci' ? `:${p.version}` : `@${p.version}`) : ''}`;
      hits.push({
        key: server.serverKey,
        subject: serverSubject(server),
        evidence: { field: 'package', kind: p.ecosystem, detail: redactText(spec) },
        // A fixed image tag without digest can still be re-pushed, but is less exposed than a floating one.
        severity: p.ecosystem === 'oci' && !floating ? 'low' : 'medium',
        title: redactText(floating ? `Unpinned package ${p.name} (${p.version ?? 'no version'})` : `Package ${p.name} not pinned exactly (${p.version})`),
      });
    }
    return hits;
  },
};
