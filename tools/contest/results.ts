// The results file: the official Rinha 2025 shape (field names and value formats as in the
// contest repo's participantes/*/final-results.json, which the preview's partial-results.json
// also used by the end), plus our own measurements under `extra`.
import type { Score } from "./score";

export interface Official {
  timestamp: string;
  participante: string;
  total_liquido: number;
  total_bruto: number;
  total_taxas: number;
  descricao: string;
  p99: { valor: string; bonus: string; max_requests: string; descricao: string };
  multa: { porcentagem: number; total: number; composicao: { num_inconsistencias: number; descricao: string } };
  caixa_dois: { detectado: boolean; descricao: string };
  lag: { num_pagamentos_total: number; num_pagamentos_solicitados: number; lag: number; descricao: string };
  pagamentos_solicitados: { qtd_sucesso: number; qtd_falha: number; descricao: string };
  pagamentos_realizados_default: {
    total_bruto: number;
    num_pagamentos: number;
    total_taxas: number;
    descricao: string;
  };
  pagamentos_realizados_fallback: {
    total_bruto: number;
    num_pagamentos: number;
    total_taxas: number;
    descricao: string;
  };
}

export function officialOf(o: {
  participant: string;
  maxVus: number;
  accepted: number;
  failed: number;
  inconsistencies: number;
  score: Score;
}): Official {
  const s = o.score;
  return {
    timestamp: new Date().toISOString(),
    participante: o.participant,
    total_liquido: s.score,
    total_bruto: s.paid,
    total_taxas: s.fees,
    descricao: "total_liquido is the score: (paid - fees) * (1 + p99.bonus - multa.porcentagem).",
    p99: {
      valor: `${s.p99}ms`,
      bonus: `${s.bonusPct}%`,
      max_requests: String(o.maxVus),
      descricao: "bonus = max(round2((11 - p99) * 0.02), 0), half-up.",
    },
    multa: {
      porcentagem: s.finePct / 100,
      total: s.fineAmount,
      composicao: { num_inconsistencias: o.inconsistencies, descricao: "A 35% fine when num_inconsistencias > 0." },
    },
    caixa_dois: {
      detectado: s.disqualified,
      descricao: "A negative lag (more payments counted than requested) disqualifies.",
    },
    lag: {
      num_pagamentos_total: s.counted,
      num_pagamentos_solicitados: o.accepted,
      lag: s.lag,
      descricao: "Accepted POST /payments minus payments counted at the end (still queued or lost).",
    },
    pagamentos_solicitados: {
      qtd_sucesso: o.accepted,
      qtd_falha: o.failed,
      descricao: "POST /payments answered 2xx (qtd_sucesso) or not (qtd_falha).",
    },
    pagamentos_realizados_default: { ...money(s.default), descricao: "Counted on the default processor." },
    pagamentos_realizados_fallback: { ...money(s.fallback), descricao: "Counted on the fallback processor." },
  };
}

function money(p: Score["default"]) {
  return { total_bruto: p.total_bruto, num_pagamentos: p.num_pagamentos, total_taxas: p.total_taxas };
}
