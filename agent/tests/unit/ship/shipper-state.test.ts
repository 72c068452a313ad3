import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { INITIAL_SHIPPER_STATE, readShipperState, shipperStateFile } from '../../../src/ship/shipper-state.js';

describe('readShipperState (ship/shipper-state)', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpw-ss-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('is the initial state when the file is missing or unreadable (never throws)', () => {
    expect(readShipperState(dir)).toEqual(INITIAL_SHIPPER_STATE);
    fs.writeFileSync(shipperStateFile(dir), '{ torn');
    expect(readShipperState(dir)).toEqual(INITIAL_SHIPPER_STATE);
  });

  it('fills fields an older file lacks from the initial state', () => {
    fs.writeFileSync(shipperStateFile(dir), JSON.stringify({ agentId: 'a1', lastSeq: 9, lastHash: 'h' }));
    expect(readShipperState(dir)).toEqual({ ...INITIAL_SHIPPER_STATE, agentId: 'a1', lastSeq: 9, lastHash: 'h' });
  });
});
