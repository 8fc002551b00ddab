import { describe, expect, it } from 'vitest'
import { allPorts, defaultPorts, infraPorts, portsFromBase } from '../src/stack/ports.ts'

describe('ports', () => {
  it('gives every part of a stack its own port', () => {
    for (const ports of [defaultPorts, portsFromBase(20_000)]) {
      const all = allPorts(ports)
      expect(new Set(all).size).toBe(all.length)
      expect(all).toHaveLength(17)
    }
  })

  it('lays a stack out from a base, edge first', () => {
    const ports = portsFromBase(31_000)
    expect(ports.edge).toBe(31_000)
    expect(Math.min(...allPorts(ports))).toBe(31_000)
    expect(Math.max(...allPorts(ports))).toBeLessThan(31_020)
    expect(infraPorts(ports)).toEqual({
      nats: 31_001,
      natsMonitor: 31_002,
      postgres: 31_003,
      clickhouseHttp: 31_004,
      clickhouseTcp: 31_005,
      s3: 31_006,
    })
  })

  it('refuses a base that is not a usable port', () => {
    expect(() => portsFromBase(80)).toThrow(/--port-base/)
    expect(() => portsFromBase(65_530)).toThrow(/--port-base/)
    expect(() => portsFromBase(Number('abc'))).toThrow(/--port-base/)
  })
})
