/**
 * 8192 events with struct columns as awkward writes records: `Muon: list<struct<pt, charge, name>>`
 * (empty lists, null lists, null records, null pt) and `MET: struct<pt, phi, flags: struct<good>>`
 * (null records, null pt; MET.pt = id / 4, so row groups of 2048 events have disjoint ranges).
 */
export const STRUCTS_SQL = `SELECT i::INTEGER AS id, (i % 4)::DOUBLE AS x,
    CASE WHEN i % 10 = 3 THEN NULL ELSE
      [CASE WHEN (i + k) % 9 = 4 THEN NULL ELSE {'pt': CASE WHEN (i + k) % 11 = 0 THEN NULL ELSE ((i * 7 + k * 13) % 60 + 0.5)::FLOAT END,
        'charge': (k % 2 * 2 - 1)::TINYINT, 'name': 'mu' || k} END FOR k IN range(i % 4)] END AS Muon,
    CASE WHEN i % 10 = 5 THEN NULL ELSE {'pt': CASE WHEN i % 10 = 7 THEN NULL ELSE (i * 0.25)::FLOAT END,
      'phi': ((i % 13) * 0.25 - 1.5)::FLOAT, 'flags': {'good': i % 3 = 0}} END AS MET
  FROM range(8192) t(i)`;
