/**
 * The real collaborators of a scan and of watch mode: discovery, normalization and rules from
 * their modules, ps-list / systeminformation sources, /etc/passwd user names, cached DNS, the
 * catalog's process signatures. Built once per command; tests replace any of them.
 */
import { processSignatures } from '../catalog/index.js';
import { createHostResolver } from '../collect/host-resolver.js';
import { systemHostFacts } from '../collect/host-facts.js';
import { createUserNameResolver } from '../collect/user-names.js';
import { discover } from '../discovery/index.js';
import { normalizeEntry } from '../normalize/index.js';
import { evaluateRules, type RulesOptions } from '../rules/index.js';
import { redactCommandLine } from '../collect/process-command-line.js';
import type { ClientProcessSignature } from '../collect/process-signatures.js';
import type { WatchDeps } from './inventory-watcher.js';
import { watchSpecs } from '../discovery/watch-specs.js';
import type { Platform, ScanContext } from '../types.js';
import type { WatchSpec } from '../discovery/watch-plan.js';
import type { ScanDeps } from './scan.js';
import { resolveEffectiveState } from '../discovery/effective-state.js';
import { findExtensions } from '../extensions/extension-finder.js';

/**
 * The rules engine as a scan dependency. `rules` is read at every evaluation (a function: the
 * running agent's current policy and error reporting, so served settings apply without a restart).
 */
export function rulesEvaluator(rules: RulesOptions | (() => RulesOptions) = {}): ScanDeps['evaluateRules'] {
  return (input) =>
    evaluateRules(
      {
        files: [...input.files],
        raw: input.files.flatMap((f) => f.entries),
        servers: [...input.servers],
        platform: input.ctx.platform,
        processes: [...input.processes],
        sockets: [...input.sockets],
        ...(input.sourceFailures ? { sourceFailures: [...input.sourceFailures] } : {}),
      },
      typeof rules === 'function' ? rules() : rules,
    );
}

/** Real dependencies for scan and watch; `rules` passes disabled rules / allow-lists on. */
export function defaultScanDeps(rules: RulesOptions | (() => RulesOptions) = {}): WatchDeps {
  const signatureCache = new Map<Platform, ClientProcessSignature[]>();
  let lastProjects: readonly string[] = [];
  let specsMemo: { ctx: ScanContext; projects: readonly string[]; specs: WatchSpec[] } | null = null;
  return {
    discover: async (ctx) => {
      const result = await discover(ctx);
      lastProjects = result.projects ?? lastProjects;
      return result;
    },
    normalize: normalizeEntry,
    resolveEffective: resolveEffectiveState,
    findExtensions: (ctx, projects) => findExtensions(ctx, projects, { redact: redactCommandLine }),
    evaluateRules: rulesEvaluator(rules),
    processSource: lazyProcessSource(),
    socketSource: lazySocketSource(),
    hostFacts: systemHostFacts,
    resolveHosts: createHostResolver(),
    resolveUser: createUserNameResolver(),
    // Command lines: quote-aware argument redaction first (`--password "X Y"`), then free-text patterns.
    redact: redactCommandLine,
    signatures: (platform) => {
      let sigs = signatureCache.get(platform);
      if (!sigs) {
        // Extensions (no patterns of their own) stay in the list for their hostedBy links.
        sigs = processSignatures(platform).filter((s) => s.names.length + s.pathPatterns.length + s.cmdlinePatterns.length + s.hostedBy.length > 0);
        signatureCache.set(platform, sigs);
      }
      return sigs;
    },
    selfPids: new Set([process.pid]),
    // Pure in (ctx, projects): the once-a-minute re-plan with no new project reuses them (computing
    // them was half of a re-plan's CPU in run's steady state; the folders' existence is still checked).
    watchSpecs: (ctx) => {
      if (specsMemo?.ctx !== ctx || specsMemo.projects !== lastProjects) specsMemo = { ctx, projects: lastProjects, specs: watchSpecs(ctx, lastProjects) };
      return specsMemo.specs;
    },
  };
}

/** This OS's process source, its modules loaded on the first snapshot (a configs-only scan never loads them). */
function lazyProcessSource(): ScanDeps['processSource'] {
  let source: ScanDeps['processSource'] | null = null;
  return async () => {
    source ??= (await import('../platform/index.js')).platformSources().processSource();
    return source();
  };
}

/** This OS's socket source, loaded on first use like lazyProcessSource. */
function lazySocketSource(): ScanDeps['socketSource'] {
  let source: ScanDeps['socketSource'] | null = null;
  return async (scope) => {
    source ??= (await import('../platform/index.js')).platformSources().socketSource();
    return source(scope);
  };
}
