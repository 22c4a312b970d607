// Resolves `// @include path.wgsl` lines into one module, remembering where each line came from.

export interface SourceSegment {
  /** Path under shaders/. */
  file: string;
  /** First line of this segment in the expanded code (1-based). */
  startLine: number;
  /** Line in `file` that startLine corresponds to (1-based). */
  fileLine: number;
  lineCount: number;
}

export interface ExpandedShader {
  code: string;
  segments: SourceSegment[];
}

const includeRe = /^\s*\/\/\s*@include\s+(\S+\.wgsl)\s*$/;

/** Pure: expands includes (each file at most once, depth first) from a path -> source map. */
export function expandIncludes(entry: string, sources: Record<string, string>): ExpandedShader {
  const lines: string[] = [];
  const segments: SourceSegment[] = [];
  const seen = new Set<string>();
  const visit = (file: string, from: string | null) => {
    if (seen.has(file)) return;
    const src = sources[file];
    if (src === undefined) {
      throw new Error(`shader include not found: shaders/${file}${from ? ` (included from shaders/${from})` : ''}`);
    }
    seen.add(file);
    const own = src.split('\n');
    let segStart = -1;
    const flush = (uptoIndex: number) => {
      if (segStart >= 0 && uptoIndex > segStart) {
        segments.push({ file, startLine: lines.length - (uptoIndex - segStart) + 1, fileLine: segStart + 1, lineCount: uptoIndex - segStart });
      }
      segStart = -1;
    };
    for (let i = 0; i < own.length; i++) {
      const m = includeRe.exec(own[i]);
      if (m) {
        flush(i);
        visit(m[1], file);
        continue;
      }
      if (segStart < 0) segStart = i;
      lines.push(own[i]);
    }
    flush(own.length);
  };
  visit(entry, null);
  return { code: lines.join('\n'), segments };
}

/** Maps a line of expanded code back to (file, line). */
export function mapLine(expanded: ExpandedShader, line: number): { file: string; line: number } {
  for (const s of expanded.segments) {
    if (line >= s.startLine && line < s.startLine + s.lineCount) return { file: s.file, line: s.fileLine + (line - s.startLine) };
  }
  const last = expanded.segments[expanded.segments.length - 1];
  return { file: last?.file ?? '?', line };
}
