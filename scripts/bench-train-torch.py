#!/usr/bin/python3
"""
The PyTorch reference for scripts/bench-train.ts: diffskim's training step written in PyTorch,
timed over whole epochs of data held in memory as tensors (a fresh permutation per epoch).

The model is diffskim's (src/model/): inputs standardised as (x - mean) / std; each cut edge
a soft step log w = logsigmoid(sign * slope * std * ((x - mean) / std - u)) with the threshold
u learned in standardised units and the default slope 4 / std; P = prod_k w_k * sigmoid(MLP),
ReLU hidden layers, Glorot-uniform kernels and zero biases. The loss is diffskim's BCE in the
log domain (log(1 - P) = logaddexp(log(1 - c), log c + logsigmoid(-logit))), events weighted so
that both classes weigh the same, plus (size term on) lambda * sum(c * bytes) / sum(bytes).
Adam with diffskim's defaults (lr 0.01, eps 1e-7 as TF.js).

Models: 'seed' (2 features, 2 '>' cuts, MLP 15-30-15) on the seed toy, and 'wide' (20 features,
20 '>' cuts, MLP 64-64) on Gaussian data. Prints one JSON line per run:
{"model", "batch", "size", "threads", "events", "wall", "cpu", "perWall", "perCpu"}.

  /usr/bin/python3 scripts/bench-train-torch.py [events=262144] [epochs=2] [models=seed,wide]
      [batches=4096,16384] [threads=1,default] [sizes=off,on]
"""
import json
import math
import os
import sys
import time

import torch

args = sys.argv[1:]
EVENTS = int(args[0]) if len(args) > 0 else 262144
EPOCHS = int(args[1]) if len(args) > 1 else 2
MODELS = (args[2] if len(args) > 2 else 'seed,wide').split(',')
BATCHES = [int(b) for b in (args[3] if len(args) > 3 else '4096,16384').split(',')]
THREADS = (args[4] if len(args) > 4 else '1,default').split(',')
LAMBDAS = [{'off': 0.0, 'on': 0.5}[s] for s in (args[5] if len(args) > 5 else 'off,on').split(',')]
DEFAULT_THREADS = torch.get_num_threads()
LOG_FLOOR = 1e-30


def seed_toy(n, gen):
    """The seed toy: signal N((1.5, 2), [[0.5, 0.2], [0.2, 0.5]]), background N(0, 9 I)."""
    label = (torch.rand(n, generator=gen) < 0.5).float()
    a, b = torch.randn(n, generator=gen), torch.randn(n, generator=gen)
    l11 = math.sqrt(0.5)
    l21 = 0.2 / l11
    l22 = math.sqrt(0.5 - l21 * l21)
    x = torch.where(label > 0, 1.5 + l11 * a, 3 * a)
    y = torch.where(label > 0, 2.0 + l21 * a + l22 * b, 3 * b)
    return torch.stack([x, y], 1), label


def wide_toy(n, features, gen):
    """Gaussian features, the signal shifted by 0.5 in each."""
    label = (torch.rand(n, generator=gen) < 0.5).float()
    x = torch.randn(n, features, generator=gen) + 0.5 * label[:, None]
    return x, label


class Model(torch.nn.Module):
    def __init__(self, x, hidden):
        super().__init__()
        mean, std = x.mean(0), x.std(0)
        self.register_buffer('mean', mean)
        self.register_buffer('std', std)
        # Cuts '>' on every feature, opened at the 1 % quantile; gain = sign * slope * std = 4.
        start = torch.quantile(x[:65536], 0.01, dim=0)
        self.u = torch.nn.Parameter((start - mean) / std)
        self.register_buffer('gain', torch.full_like(mean, 4.0))
        sizes = [x.shape[1], *hidden, 1]
        layers = []
        for i, o in zip(sizes[:-1], sizes[1:]):
            layer = torch.nn.Linear(i, o)
            torch.nn.init.xavier_uniform_(layer.weight)
            torch.nn.init.zeros_(layer.bias)
            layers += [layer, torch.nn.ReLU()]
        self.mlp = torch.nn.Sequential(*layers[:-1])

    def forward(self, x):
        z = (x - self.mean) / self.std
        log_cut = torch.nn.functional.logsigmoid((z - self.u) * self.gain).sum(1)
        return log_cut, self.mlp(z).squeeze(1)


def loss_of(log_cut, logit, y, w, sum_w, byte, lam):
    log_p = log_cut + torch.nn.functional.logsigmoid(logit)
    log1m_cut = torch.log(torch.clamp(-torch.expm1(log_cut), min=LOG_FLOOR))
    log1m_p = torch.logaddexp(log1m_cut, log_cut + torch.nn.functional.logsigmoid(-logit))
    main = -(w * (y * log_p + (1 - y) * log1m_p)).sum() / sum_w
    if lam == 0:
        return main
    return main + lam * (torch.exp(log_cut) * byte).sum() / byte.sum()


def run(model_name, batch, lam, threads):
    torch.set_num_threads(DEFAULT_THREADS if threads == 'default' else int(threads))
    gen = torch.Generator().manual_seed(1)
    torch.manual_seed(1)
    if model_name == 'seed':
        x, y = seed_toy(EVENTS, gen)
        hidden = [15, 30, 15]
    else:
        x, y = wide_toy(EVENTS, 20, gen)
        hidden = [64, 64]
    signal = y.sum()
    background = EVENTS - signal
    w = torch.where(y > 0, EVENTS / (2 * signal), EVENTS / (2 * background))
    byte = torch.full((EVENTS,), 40.0)
    model = Model(x, hidden)
    opt = torch.optim.Adam(model.parameters(), lr=0.01, eps=1e-7)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for _ in range(EPOCHS):
        order = torch.randperm(EVENTS, generator=gen)
        for start in range(0, EVENTS, batch):
            idx = order[start:start + batch]
            xb, yb, wb, bb = x[idx], y[idx], w[idx], byte[idx]
            opt.zero_grad()
            log_cut, logit = model(xb)
            loss = loss_of(log_cut, logit, yb, wb, wb.sum(), bb, lam)
            loss.backward()
            opt.step()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    events = EVENTS * EPOCHS
    return {
        'model': model_name, 'batch': batch, 'size': lam > 0,
        'threads': torch.get_num_threads() if threads == 'default' else int(threads),
        'events': events, 'wall': wall, 'cpu': cpu, 'perWall': events / wall, 'perCpu': events / cpu,
        'loss': float(loss),
    }


for m in MODELS:
    for b in BATCHES:
        for lam in LAMBDAS:
            for t in THREADS:
                print(json.dumps(run(m, b, lam, t)), flush=True)
