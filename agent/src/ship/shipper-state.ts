/**
 * The shipper's persisted progress, `<stateDir>/shipper-state.json`: the identity it ships for,
 * the last acked seq and the hash that chains the next batch to it, and counters for health and
 * `mcpwatch-agent status`. Reading never throws: a missing or unreadable file is the initial state.
 */
import * as path from 'node:path';
import { readJsonFile } from '../spool/durable-file.js';

export interface ShipperState {
  agentId: string | null;
  lastSeq: number;
  lastHash: string;
  lastShipAt: string | null;
  lastAttemptAt: string | null;
  lastError: string | null;
  deadLettered: number;
  deadLetterDropped: number;
}

export const INITIAL_SHIPPER_STATE: Readonly<ShipperState> = Object.freeze({
  agentId: null,
  lastSeq: 0,
  lastHash: '',
  lastShipAt: null,
  lastAttemptAt: null,
  lastError: null,
  deadLettered: 0,
  deadLetterDropped: 0,
});

export function shipperStateFile(stateDir: string): string {
  return path.join(stateDir, 'shipper-state.json');
}

/** Reads the persisted shipper state of a state dir (for `status`); initial state when absent. */
export function readShipperState(stateDir: string): ShipperState {
  try {
    return { ...INITIAL_SHIPPER_STATE, ...(readJsonFile<ShipperState>(shipperStateFile(stateDir)) ?? {}) };
  } catch {
    return { ...INITIAL_SHIPPER_STATE };
  }
}
