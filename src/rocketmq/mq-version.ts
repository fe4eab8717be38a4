/**
 * RocketMQ's `MQVersion.Version` names: the `version` field of every command is an ordinal of that
 * enum (common/.../MQVersion.java), and RocketMQ 5's connection gauges label clients with its
 * name (`MQVersion.getVersionDesc`). The enum is regular enough to generate instead of copying
 * its 612 constants; test/unit/rocketmq/mq-version.test.ts pins ordinals across its irregular
 * stretches.
 */

/**
 * The enum's names in declaration order, as at apache/rocketmq 8fc57f1: 3.0.0's pre-releases,
 * then a `_SNAPSHOT` and a release for each version from 3.0.1 to 5.9.9 (3.0.x runs to 15, every
 * other minor to 9; 3.3 to 3.9 have no x.y.0).
 */
function versionNames(): string[] {
  const names = ["V3_0_0_SNAPSHOT", "V3_0_0_ALPHA1"];
  for (let beta = 1; beta <= 9; beta++) {
    if (beta >= 6) names.push(`V3_0_0_BETA${beta}_SNAPSHOT`);
    names.push(`V3_0_0_BETA${beta}`);
  }
  names.push("V3_0_0_FINAL");
  const release = (major: number, minor: number, patch: number): void => {
    names.push(`V${major}_${minor}_${patch}_SNAPSHOT`, `V${major}_${minor}_${patch}`);
  };
  for (let patch = 1; patch <= 15; patch++) release(3, 0, patch);
  for (let major = 3; major <= 5; major++) {
    for (let minor = major === 3 ? 1 : 0; minor <= 9; minor++) {
      const first = major === 3 && minor >= 3 ? 1 : 0;
      for (let patch = first; patch <= 9; patch++) release(major, minor, patch);
    }
  }
  return names;
}

const VERSION_NAMES: readonly string[] = versionNames();

/**
 * `MQVersion.getVersionDesc(version)`: the name of a command's `version` ordinal, e.g.
 * `"V4_9_8"` for 409 and `"V5_3_1"` for 475. Ordinals past the last one known are named after
 * it (`"V5_9_9"`), as Java does; a negative one, which Java cannot name, is given as its number.
 */
export function mqVersionName(version: number): string {
  if (!Number.isInteger(version) || version < 0) return String(version);
  return VERSION_NAMES[Math.min(version, VERSION_NAMES.length - 1)] ?? String(version);
}

/** How many versions `MQVersion.Version` declares (612: V3_0_0_SNAPSHOT to V5_9_9). */
export const MQ_VERSION_COUNT = VERSION_NAMES.length;
