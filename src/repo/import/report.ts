/** What an import saw; printed by `trove commit`. */
export interface ImportReport {
  files: number;
  dirs: number;
  symlinks: number;
  /** Bytes of file content read. */
  bytesRead: number;
  /** Files whose blob id came from the stat cache, unread. */
  cached: number;
  /** Device nodes, fifos and sockets: reported, not stored. */
  skipped: { path: string; reason: string }[];
}

export function newReport(): ImportReport {
  return { files: 0, dirs: 0, symlinks: 0, bytesRead: 0, cached: 0, skipped: [] };
}
