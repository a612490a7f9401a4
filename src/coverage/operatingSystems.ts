/**
 * Which operating systems MDVM can assess, how Defender puts MDE on them, and parsers that turn what
 * ARM reports (image references, Arc `osName`/`osSku`) into an `OperatingSystem`.
 *
 * Support follows Microsoft's "Supported operating systems … for threat and vulnerability management"
 * (`tvm-supported-os`, linked from faq-scanner-detection.yml "What are the operating systems that are
 * compatible with the MDVM scanner?") and the MDE-on-Linux system requirements; the Linux appliance and
 * end-of-life exclusions come from built-in policy `ASC_MicrosoftDefenderForEndpoint_LinuxAgent_VM_DINE`.
 */
import type { LinuxDistribution, OperatingSystem, WindowsVersion } from './types.js';

export type OsSupport =
  | { supported: true; assumed: boolean; label: string }
  | { supported: false; label: string; why: string };

/** How Defender's MDE integration (`WDATP`, §6) reaches a machine running this OS. */
export type MdeDeployPath =
  /** WDATP alone: Windows Server 2019 and later, Windows 10/11 multi-session (policy MDC_MDE_WDATP_DINE). */
  | 'wdatp'
  /** Needs `WDATP_UNIFIED_SOLUTION`: Windows Server 2012 R2 and 2016 (policy MDC_MDE_WDATP_UNIFIED_DINE). */
  | 'unifiedSolution'
  /** Needs `WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW` off (policy MDC_MDE_WDATP_EXCLUDE_LINUX_DINE). */
  | 'linux'
  /** Down-level Windows onboarded through the retired Log Analytics agent: not auto-deployed by vaplane. */
  | 'none';

const WINDOWS_LABEL: Record<WindowsVersion, string> = {
  Windows7: 'Windows 7',
  'Windows8.1': 'Windows 8.1',
  Windows10: 'Windows 10',
  Windows11: 'Windows 11',
  WindowsServer2008R2: 'Windows Server 2008 R2',
  WindowsServer2012: 'Windows Server 2012',
  WindowsServer2012R2: 'Windows Server 2012 R2',
  WindowsServer2016: 'Windows Server 2016',
  WindowsServer2019: 'Windows Server 2019',
  WindowsServer2022: 'Windows Server 2022',
  WindowsServer2025: 'Windows Server 2025',
};

/** Windows Server 2012 (not R2) is the one Windows release absent from the TVM supported list. */
const WINDOWS_UNSUPPORTED: ReadonlySet<WindowsVersion> = new Set(['WindowsServer2012']);

const WINDOWS_DEPLOY_PATH: Record<WindowsVersion, MdeDeployPath> = {
  Windows7: 'none',
  'Windows8.1': 'none',
  Windows10: 'wdatp',
  Windows11: 'wdatp',
  WindowsServer2008R2: 'none',
  WindowsServer2012: 'none',
  WindowsServer2012R2: 'unifiedSolution',
  WindowsServer2016: 'unifiedSolution',
  WindowsServer2019: 'wdatp',
  WindowsServer2022: 'wdatp',
  WindowsServer2025: 'wdatp',
};

interface Version {
  major: number;
  minor?: number;
}

/** The oldest release of each distribution MDVM assesses ("7.2 or higher", "16.04 LTS or higher LTS", …). */
const LINUX_MINIMUM: Record<Exclude<LinuxDistribution, 'other'>, { label: string; minimum: string }> = {
  RHEL: { label: 'Red Hat Enterprise Linux', minimum: '7.2' },
  CentOS: { label: 'CentOS', minimum: '7.2' },
  Ubuntu: { label: 'Ubuntu', minimum: '16.04' },
  Debian: { label: 'Debian', minimum: '9' },
  SLES: { label: 'SUSE Linux Enterprise Server', minimum: '12' },
  OracleLinux: { label: 'Oracle Linux', minimum: '7.2' },
  AmazonLinux: { label: 'Amazon Linux', minimum: '2' },
  RockyLinux: { label: 'Rocky Linux', minimum: '8.7' },
  AlmaLinux: { label: 'AlmaLinux', minimum: '8.4' },
};

function parseVersion(text: string | undefined): Version | undefined {
  const match = text?.match(/(\d+)(?:\.(\d+))?/);
  if (!match) return undefined;
  const major = Number(match[1]);
  return match[2] === undefined ? { major } : { major, minor: Number(match[2]) };
}

/** A release given without its minor number is taken as that major line's newest release. */
function atLeast(version: Version, minimum: Version): boolean {
  if (version.major !== minimum.major) return version.major > minimum.major;
  return version.minor === undefined || version.minor >= (minimum.minor ?? 0);
}

export function describeOs(os: OperatingSystem): string {
  if (os.family === 'Windows')
    return os.version ? WINDOWS_LABEL[os.version] : 'Windows (version not reported)';
  if (!os.distribution) return 'Linux (distribution not reported)';
  if (os.distribution === 'other') return `Linux (${os.version ?? 'unrecognised image'})`;
  const label = LINUX_MINIMUM[os.distribution].label;
  return os.version ? `${label} ${os.version}` : `${label} (version not reported)`;
}

export function mdvmSupport(os: OperatingSystem): OsSupport {
  const label = describeOs(os);
  if (os.family === 'Windows') {
    if (!os.version) return { supported: true, assumed: true, label };
    if (WINDOWS_UNSUPPORTED.has(os.version)) {
      return { supported: false, label, why: `${label} is not on MDVM's supported operating system list` };
    }
    return { supported: true, assumed: false, label };
  }
  if (!os.distribution) return { supported: true, assumed: true, label };
  if (os.distribution === 'other') {
    return { supported: false, label, why: `${label} is not a distribution MDE for Linux supports` };
  }
  const { minimum } = LINUX_MINIMUM[os.distribution];
  const version = parseVersion(os.version);
  if (!version) return { supported: true, assumed: true, label };
  if (!atLeast(version, parseVersion(minimum) ?? { major: 0 })) {
    return {
      supported: false,
      label,
      why: `${label} is older than the oldest supported release, ${minimum}`,
    };
  }
  // Ubuntu: "16.04 LTS or higher LTS": interim releases (23.10, 21.04) are not assessed.
  if (
    os.distribution === 'Ubuntu' &&
    version.minor !== undefined &&
    (version.major % 2 !== 0 || version.minor !== 4)
  ) {
    return { supported: false, label, why: `${label} is not an LTS release; MDVM assesses Ubuntu LTS only` };
  }
  return { supported: true, assumed: false, label };
}

export function mdeDeployPath(os: OperatingSystem): MdeDeployPath {
  if (os.family === 'Linux') return 'linux';
  return os.version ? WINDOWS_DEPLOY_PATH[os.version] : 'wdatp';
}

// ─── Parsers for the edge ────────────────────────────────────────────────────────────────────────

/** Appliance publishers the MDE-for-Linux policy never deploys to (ASC_MicrosoftDefenderForEndpoint_LinuxAgent_VM_DINE). */
const LINUX_APPLIANCE_PUBLISHERS = new Set(
  [
    'AzureDatabricks',
    'azureopenshift',
    'cisco',
    'fortinet',
    'juniper-networks',
    'barracudanetworks',
    'checkpoint',
    'imperva',
    'qualysguard',
    'f5-networks',
    'paloaltonetworks',
    'rohdeschwarzcybersecuritysas',
    'sonicwall-inc',
    'esdenera',
    'brocade_communications',
    '5nine-software-inc',
    'forcepoint-llc',
    'hillstone-networks',
    'netgate',
    'microsoft-aks',
  ].map((publisher) => publisher.toLowerCase()),
);

function windowsFromText(text: string): WindowsVersion | undefined {
  const server = text.match(/(2008[- ]?R2|2012[- ]?R2|2012|2016|2019|2022|2025)/i)?.[1];
  if (server && /server|datacenter|standard|^20/i.test(text)) {
    return `WindowsServer${server.replace(/[- ]/g, '').toUpperCase()}` as WindowsVersion;
  }
  const client = text.match(/windows[- ]?(11|10|8\.1|7)\b/i)?.[1];
  return client ? (`Windows${client}` as WindowsVersion) : undefined;
}

/** A Marketplace image reference (`storageProfile.imageReference`) of an Azure VM. */
export function osFromImage(
  osType: 'Windows' | 'Linux',
  image: { publisher?: string; offer?: string; sku?: string },
): OperatingSystem {
  const publisher = (image.publisher ?? '').toLowerCase();
  const offer = image.offer ?? '';
  const sku = image.sku ?? '';
  if (osType === 'Windows') {
    const version = windowsFromText(`${sku} ${offer}`.trim());
    return version ? { family: 'Windows', version } : { family: 'Windows' };
  }
  if (LINUX_APPLIANCE_PUBLISHERS.has(publisher) || /firewall/i.test(offer)) {
    return { family: 'Linux', distribution: 'other', version: `${image.publisher} ${offer}`.trim() };
  }
  const linux = (distribution: LinuxDistribution, version: string | undefined): OperatingSystem =>
    version ? { family: 'Linux', distribution, version } : { family: 'Linux', distribution };
  // Image SKUs write 7.9 as `7_9`, `7.9`, `79` or `7-lvm`; majors are single digits for these vendors.
  const dotted = (text: string): string | undefined => {
    const match = text.match(/(\d)[._]?(\d{1,2})?/);
    return match ? (match[2] === undefined ? match[1] : `${match[1]}.${match[2]}`) : undefined;
  };
  switch (publisher) {
    case 'canonical': {
      const match = `${sku} ${offer}`.match(/(\d{2})[._](\d{2})/);
      const codename = /jammy/i.test(offer) ? '22.04' : /focal/i.test(offer) ? '20.04' : undefined;
      return linux('Ubuntu', match ? `${match[1]}.${match[2]}` : codename);
    }
    case 'redhat':
      return linux('RHEL', dotted(sku));
    case 'openlogic':
      return linux('CentOS', dotted(sku));
    case 'debian':
      return linux('Debian', offer.match(/debian-(\d+)/i)?.[1] ?? sku.match(/^(\d+)/)?.[1]);
    case 'suse': {
      const match = offer.match(/sles-(\d+)(?:-sp(\d+))?/i);
      return linux('SLES', match ? (match[2] ? `${match[1]}.${match[2]}` : match[1]) : undefined);
    }
    case 'oracle':
      return linux('OracleLinux', dotted(sku.replace(/^ol/i, '')));
    case 'almalinux':
      return linux('AlmaLinux', dotted(sku));
    case 'resf':
      return linux('RockyLinux', dotted(sku));
    default:
      return { family: 'Linux' };
  }
}

/** An operating system name as Arc (`osName`, `osSku`) or a connector reports it. */
export function osFromName(osType: 'Windows' | 'Linux', name: string): OperatingSystem {
  if (osType === 'Windows') {
    const version = windowsFromText(name);
    return version ? { family: 'Windows', version } : { family: 'Windows' };
  }
  const patterns: readonly [RegExp, LinuxDistribution][] = [
    [/ubuntu/i, 'Ubuntu'],
    [/red ?hat|rhel/i, 'RHEL'],
    [/centos/i, 'CentOS'],
    [/debian/i, 'Debian'],
    [/suse|sles/i, 'SLES'],
    [/oracle/i, 'OracleLinux'],
    [/amazon/i, 'AmazonLinux'],
    [/rocky/i, 'RockyLinux'],
    [/alma/i, 'AlmaLinux'],
  ];
  for (const [pattern, distribution] of patterns) {
    if (!pattern.test(name)) continue;
    const sles = name.match(/(\d+)\s*SP(\d+)/i);
    const version = sles ? `${sles[1]}.${sles[2]}` : name.match(/(\d+(?:\.\d+)?)/)?.[1];
    return version ? { family: 'Linux', distribution, version } : { family: 'Linux', distribution };
  }
  return { family: 'Linux' };
}
