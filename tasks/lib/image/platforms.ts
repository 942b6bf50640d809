// Docker platforms ↔ Debian architectures, and the per-platform image tags built from them.

export interface PlatformInfo {
  /** linux/arm/v7 */
  platform: string;
  /** Debian's name: armhf */
  debArch: string;
  /** Safe in a tag: arm-v7 */
  slug: string;
}

const KNOWN: Record<string, Omit<PlatformInfo, 'platform'>> = {
  'linux/amd64': { debArch: 'amd64', slug: 'amd64' },
  'linux/arm64': { debArch: 'arm64', slug: 'arm64' },
  'linux/arm64/v8': { debArch: 'arm64', slug: 'arm64' },
  'linux/arm/v7': { debArch: 'armhf', slug: 'arm-v7' },
};

export function platformInfo(platform: string): PlatformInfo | undefined {
  const k = KNOWN[platform];
  return k ? { platform, ...k } : undefined;
}

export const SUPPORTED_PLATFORMS = Object.keys(KNOWN);
