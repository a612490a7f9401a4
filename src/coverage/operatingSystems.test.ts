import { describe, expect, it } from 'vitest';
import { mdeDeployPath, mdvmSupport, type OperatingSystem, osFromImage, osFromName } from './index.js';

describe('osFromImage reads Marketplace image references', () => {
  it.each<[string, 'Windows' | 'Linux', { publisher: string; offer: string; sku: string }, OperatingSystem]>([
    [
      'Windows Server 2012 R2',
      'Windows',
      { publisher: 'MicrosoftWindowsServer', offer: 'WindowsServer', sku: '2012-R2-Datacenter' },
      { family: 'Windows', version: 'WindowsServer2012R2' },
    ],
    [
      'Windows Server 2012',
      'Windows',
      { publisher: 'MicrosoftWindowsServer', offer: 'WindowsServer', sku: '2012-Datacenter' },
      { family: 'Windows', version: 'WindowsServer2012' },
    ],
    [
      'Windows Server 2022 Azure Edition',
      'Windows',
      { publisher: 'MicrosoftWindowsServer', offer: 'WindowsServer', sku: '2022-datacenter-azure-edition' },
      { family: 'Windows', version: 'WindowsServer2022' },
    ],
    [
      'Windows 11 multi-session',
      'Windows',
      { publisher: 'MicrosoftWindowsDesktop', offer: 'windows-11', sku: 'win11-23h2-avd' },
      { family: 'Windows', version: 'Windows11' },
    ],
    [
      'Ubuntu 22.04 (jammy offer)',
      'Linux',
      { publisher: 'Canonical', offer: '0001-com-ubuntu-server-jammy', sku: '22_04-lts-gen2' },
      { family: 'Linux', distribution: 'Ubuntu', version: '22.04' },
    ],
    [
      'Ubuntu 18.04',
      'Linux',
      { publisher: 'Canonical', offer: 'UbuntuServer', sku: '18.04-LTS' },
      { family: 'Linux', distribution: 'Ubuntu', version: '18.04' },
    ],
    [
      'RHEL 8',
      'Linux',
      { publisher: 'RedHat', offer: 'RHEL', sku: '8-lvm' },
      { family: 'Linux', distribution: 'RHEL', version: '8' },
    ],
    [
      'RHEL 8.6 written 86',
      'Linux',
      { publisher: 'RedHat', offer: 'RHEL', sku: '86-gen2' },
      { family: 'Linux', distribution: 'RHEL', version: '8.6' },
    ],
    [
      'CentOS 7.9',
      'Linux',
      { publisher: 'OpenLogic', offer: 'CentOS', sku: '7_9' },
      { family: 'Linux', distribution: 'CentOS', version: '7.9' },
    ],
    [
      'SLES 15 SP5',
      'Linux',
      { publisher: 'SUSE', offer: 'sles-15-sp5', sku: 'gen2' },
      { family: 'Linux', distribution: 'SLES', version: '15.5' },
    ],
    [
      'Debian 12',
      'Linux',
      { publisher: 'Debian', offer: 'debian-12', sku: '12-gen2' },
      { family: 'Linux', distribution: 'Debian', version: '12' },
    ],
    [
      'a firewall appliance',
      'Linux',
      { publisher: 'paloaltonetworks', offer: 'vmseries-flex', sku: 'byol' },
      { family: 'Linux', distribution: 'other', version: 'paloaltonetworks vmseries-flex' },
    ],
    [
      'an unknown publisher',
      'Linux',
      { publisher: 'contoso', offer: 'hardened', sku: '1' },
      { family: 'Linux' },
    ],
  ])('%s', (_name, osType, image, expected) => {
    expect(osFromImage(osType, image)).toEqual(expected);
  });
});

describe('osFromName reads what Arc machines report', () => {
  it.each<[string, 'Windows' | 'Linux', OperatingSystem]>([
    ['Windows Server 2012 R2 Datacenter', 'Windows', { family: 'Windows', version: 'WindowsServer2012R2' }],
    ['Windows Server 2019 Datacenter', 'Windows', { family: 'Windows', version: 'WindowsServer2019' }],
    ['Ubuntu 22.04.4 LTS', 'Linux', { family: 'Linux', distribution: 'Ubuntu', version: '22.04' }],
    ['Red Hat Enterprise Linux 8.9', 'Linux', { family: 'Linux', distribution: 'RHEL', version: '8.9' }],
    [
      'SUSE Linux Enterprise Server 15 SP5',
      'Linux',
      { family: 'Linux', distribution: 'SLES', version: '15.5' },
    ],
    ['Debian GNU/Linux 12 (bookworm)', 'Linux', { family: 'Linux', distribution: 'Debian', version: '12' }],
    ['CentOS Linux 7 (Core)', 'Linux', { family: 'Linux', distribution: 'CentOS', version: '7' }],
    ['Amazon Linux 2023', 'Linux', { family: 'Linux', distribution: 'AmazonLinux', version: '2023' }],
    ['Gentoo', 'Linux', { family: 'Linux' }],
  ])('%s', (name, osType, expected) => {
    expect(osFromName(osType, name)).toEqual(expected);
  });
});

describe('mdvmSupport follows the TVM supported-OS list', () => {
  it.each<[OperatingSystem, boolean]>([
    [{ family: 'Windows', version: 'WindowsServer2008R2' }, true],
    [{ family: 'Windows', version: 'WindowsServer2012' }, false],
    [{ family: 'Windows' }, true],
    [{ family: 'Linux', distribution: 'RHEL', version: '7.1' }, false],
    [{ family: 'Linux', distribution: 'RHEL', version: '7' }, true],
    [{ family: 'Linux', distribution: 'Ubuntu', version: '14.04' }, false],
    [{ family: 'Linux', distribution: 'Ubuntu', version: '24.04' }, true],
    [{ family: 'Linux', distribution: 'Ubuntu', version: '21.04' }, false],
    [{ family: 'Linux', distribution: 'Debian', version: '8' }, false],
    [{ family: 'Linux', distribution: 'OracleLinux', version: '6.10' }, false],
    [{ family: 'Linux', distribution: 'other' }, false],
  ])('%j supported: %s', (os, supported) => {
    expect(mdvmSupport(os).supported).toBe(supported);
  });

  it('routes MDE deployment by release', () => {
    expect(mdeDeployPath({ family: 'Windows', version: 'WindowsServer2016' })).toBe('unifiedSolution');
    expect(mdeDeployPath({ family: 'Windows', version: 'WindowsServer2022' })).toBe('wdatp');
    expect(mdeDeployPath({ family: 'Windows', version: 'WindowsServer2008R2' })).toBe('none');
    expect(mdeDeployPath({ family: 'Linux', distribution: 'SLES' })).toBe('linux');
  });
});
