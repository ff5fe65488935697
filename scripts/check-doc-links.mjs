#!/usr/bin/env node
// Checks every relative link and anchor in the repository's Markdown: README.md, docs/**/*.md
// (the generated API reference included), and each package's and example's README.md and
// CHANGELOG.md. A link to a missing file, or to a heading or `id` that does not exist in its
// target, fails the run. Links to other sites (http:, https:, mailto:) are not fetched.
//
// Anchors follow GitHub's rules: a heading's anchor is its text, lower-cased, with
// punctuation other than `-` and `_` removed and spaces turned into `-`; a repeated heading
// gets `-1`, `-2`, ...; an HTML `id="..."` or `name="..."` is an anchor too.
//
// Usage: node scripts/check-doc-links.mjs   (pnpm docs:links, run by .ci/run). Exits 1 on a
// broken link.

import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Markdown files under `dir`, recursively. */
function markdownUnder(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    if (name === 'node_modules' || name.startsWith('.')) return [];
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return markdownUnder(path);
    return name.endsWith('.md') ? [path] : [];
  });
}

/** The files to check under `root`. */
export function filesToCheck(root) {
  const files = [join(root, 'README.md'), ...markdownUnder(join(root, 'docs'))];
  for (const group of ['packages', 'examples']) {
    const dir = join(root, group);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      for (const file of ['README.md', 'CHANGELOG.md']) {
        const path = join(dir, name, file);
        if (existsSync(path)) files.push(path);
      }
    }
  }
  return files.filter((file) => existsSync(file)).sort();
}

/** The text with fenced code blocks blanked out (line numbers kept). */
function withoutCodeBlocks(text) {
  let fence;
  return text
    .split('\n')
    .map((line) => {
      const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
      if (fence === undefined && marker !== undefined) {
        fence = marker;
        return '';
      }
      if (fence !== undefined) {
        if (marker !== undefined && marker[0] === fence[0] && marker.length >= fence.length)
          fence = undefined;
        return '';
      }
      return line;
    })
    .join('\n');
}

/** GitHub's anchor for a heading's Markdown text. */
export function slug(heading) {
  const text = heading
    .replace(/(?<!\\)<\/?[a-z][^>]*>/gi, '') // inline HTML (TypeDoc's <a id> anchors), not \<
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links and images: their text
    .replace(/`([^`]*)`/g, '$1') // code spans: their content
    .replace(/\\(.)/g, '$1') // escapes
    .replace(/\*+/g, ''); // emphasis
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');
}

const anchorCache = new Map();

/** Every anchor of a Markdown file. */
function anchorsOf(file) {
  let anchors = anchorCache.get(file);
  if (anchors !== undefined) return anchors;
  anchors = new Set();
  const seen = new Map();
  const text = withoutCodeBlocks(readFileSync(file, 'utf8'));
  for (const line of text.split('\n')) {
    const heading = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading !== undefined) {
      const base = slug(heading);
      const count = seen.get(base) ?? 0;
      seen.set(base, count + 1);
      anchors.add(count === 0 ? base : `${base}-${count}`);
    }
    for (const m of line.matchAll(/<a\s[^>]*?(?:id|name)="([^"]+)"/g)) anchors.add(m[1]);
  }
  anchorCache.set(file, anchors);
  return anchors;
}

/** The links of a Markdown text: `[text](target)` and `[label]: target`, outside code. */
function linksOf(text) {
  const links = [];
  const lines = withoutCodeBlocks(text).split('\n');
  lines.forEach((raw, index) => {
    const line = raw.replace(/(`+)[\s\S]*?\1/g, (span) => ' '.repeat(span.length)); // code spans
    for (const m of line.matchAll(/\]\(\s*(<[^>]*>|[^)\s]*)(?:\s+"[^"]*")?\s*\)/g)) {
      links.push({ target: m[1].replace(/^<|>$/g, ''), line: index + 1 });
    }
    const definition = /^ {0,3}\[[^\]]+\]:\s*(\S+)/.exec(line);
    if (definition !== null) links.push({ target: definition[1], line: index + 1 });
  });
  return links;
}

/**
 * The broken links of `files` (absolute paths), each as `file:line: target: what is wrong`,
 * with paths shown relative to `root`.
 */
export function brokenLinks(root, files) {
  const problems = [];
  let checked = 0;
  for (const file of files) {
    for (const { target, line } of linksOf(readFileSync(file, 'utf8'))) {
      if (target === '' || /^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // other sites, mailto
      checked++;
      const [pathPart, anchor] = target.split('#', 2);
      const decoded = decodeURIComponent(pathPart);
      const destination = decoded === '' ? file : resolve(dirname(file), decoded);
      const where = `${relative(root, file)}:${line}`;
      if (!existsSync(destination)) {
        problems.push(`${where}: ${target}: no such file`);
        continue;
      }
      if (anchor === undefined || anchor === '') continue;
      if (statSync(destination).isDirectory() || !destination.endsWith('.md')) {
        problems.push(`${where}: ${target}: an anchor into something that is not a Markdown file`);
        continue;
      }
      if (!anchorsOf(destination).has(decodeURIComponent(anchor))) {
        problems.push(
          `${where}: ${target}: no heading or id "${anchor}" in ${relative(root, destination)}`,
        );
      }
    }
  }
  return { problems, checked };
}

const invoked =
  process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (invoked) {
  const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
  const files = filesToCheck(root);
  const { problems, checked } = brokenLinks(root, files);
  if (problems.length > 0) {
    console.error(
      `check-doc-links: ${problems.length} broken link(s) of ${checked} in ${files.length} files:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
    process.exit(1);
  }
  console.log(`check-doc-links: OK (${checked} relative links in ${files.length} files)`);
}
