import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { checkHostAddress, checkInterfaceCidr, checkRouteDest, cidrContains, parseAddress, parseCidr } from '../../src/playbook/addresses.ts';

describe('guest address checks', () => {
  it('accepts addresses inside the documentation ranges', () => {
    for (const ok of ['192.0.2.1/24', '198.51.100.254/24', '203.0.113.7/32', '203.0.113.0/25', '2001:db8::1/64', '2001:db8:1::2/64', '2001:0db8:ffff:ffff:ffff:ffff:ffff:ffff/128', '2001:db8::/32']) {
      assert.equal(checkInterfaceCidr(ok), undefined, ok);
    }
  });

  it('rejects addresses outside them, naming the ranges', () => {
    for (const bad of ['10.0.0.1/8', '192.0.3.1/24', '198.51.101.1/24', '127.0.0.1/8', '2001:db9::1/64', 'fe80::1/64', '::1/128', '::ffff:192.0.2.1/128']) {
      assert.match(checkInterfaceCidr(bad) ?? '', /is outside the documentation ranges \(192\.0\.2\.0\/24, 198\.51\.100\.0\/24, 203\.0\.113\.0\/24, 2001:db8::\/32\)/, bad);
    }
  });

  it('rejects prefixes that reach outside the range', () => {
    assert.match(checkInterfaceCidr('192.0.2.1/23') ?? '', /prefix \/23 reaches outside 192\.0\.2\.0\/24; use \/24 or longer/);
    assert.match(checkInterfaceCidr('2001:db8::1/16') ?? '', /prefix \/16 reaches outside 2001:db8::\/32/);
  });

  it('rejects malformed text', () => {
    for (const bad of ['192.0.2.1', '192.0.2.256/24', '192.0.2/24', '192.0.2.01/24', '2001:db8::1::2/64', '2001:db8::1/129', '2001:db8:0:0:0:0:0:0:1/64', 'dut/24', '192.0.2.1/']) {
      assert.match(checkInterfaceCidr(bad) ?? '', /is not an address with prefix length/, bad);
    }
  });

  it('checks gateways and route destinations', () => {
    assert.equal(checkHostAddress('192.0.2.1'), undefined);
    assert.equal(checkHostAddress('2001:db8:2::1'), undefined);
    assert.match(checkHostAddress('8.8.8.8') ?? '', /outside/);
    assert.match(checkHostAddress('192.0.2.1/24') ?? '', /not an IPv4 or IPv6 address/);
    assert.equal(checkRouteDest('default'), undefined);
    assert.equal(checkRouteDest('198.51.100.0/24'), undefined);
    assert.match(checkRouteDest('0.0.0.0/0') ?? '', /outside/);
  });

  it('parses IPv6 forms to the same value', () => {
    const a = parseAddress('2001:db8::1');
    const b = parseAddress('2001:0db8:0000:0000:0000:0000:0000:0001');
    assert.deepEqual(a, b);
    assert.equal(a?.value, 0x20010db8000000000000000000000001n);
    assert.equal(parseAddress('::')?.value, 0n);
    assert.equal(parseAddress('::ffff:192.0.2.1')?.value, 0xffffc0000201n);
    assert.deepEqual(parseAddress('192.0.2.1'), { family: 4, value: 0xc0000201n });
  });

  it('tests containment by prefix', () => {
    const net = parseCidr('192.0.2.1/24')!;
    assert.ok(cidrContains(net, parseAddress('192.0.2.200')!));
    assert.ok(!cidrContains(net, parseAddress('192.0.3.1')!));
    assert.ok(!cidrContains(net, parseAddress('2001:db8::1')!));
    assert.ok(cidrContains(parseCidr('2001:db8:1::1/64')!, parseAddress('2001:db8:1::ffff')!));
    assert.ok(!cidrContains(parseCidr('2001:db8:1::1/64')!, parseAddress('2001:db8:2::1')!));
  });
});
