import type { ReferenceData } from '@ledger/margin-domain';

/**
 * The reference-data versions in force over time (reference-data.md "Versions"): a version applies to every
 * command whose time is at or after its publishing time. The first version applies from the beginning.
 */
export class ReferenceDataRegistry {
  private readonly versions: { ref: ReferenceData; from: string }[] = [];

  add(ref: ReferenceData, from: string): void {
    this.versions.push({ ref, from });
  }

  get size(): number {
    return this.versions.length;
  }

  latest(): ReferenceData {
    const last = this.versions[this.versions.length - 1];
    if (!last) throw new Error('no reference data loaded');
    return last.ref;
  }

  /** The version in force at `time` (ISO strings of one format compare in time order). */
  at(time: string): ReferenceData {
    let found = this.versions[0];
    for (const v of this.versions) {
      if (v.from <= time) found = v;
      else break;
    }
    if (!found) throw new Error('no reference data loaded');
    return found.ref;
  }

  byVersion(version: string): ReferenceData | undefined {
    return this.versions.find((v) => v.ref.version === version)?.ref;
  }

  all(): ReferenceData[] {
    return this.versions.map((v) => v.ref);
  }
}
