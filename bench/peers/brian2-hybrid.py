"""The hybrid network (variant B1) in Brian2 C++ standalone, for `npm run bench:peers`.

The same tau-leaping scheme as ei-engine: each step every neuron draws Poisson(dt * sum of the other E (I)
neurons' intensities) E (I) input events, so one step costs O(n): the population sums come from a summed
variable over 2n synapses onto a 2-neuron group, read back through a linked variable.

Usage: /usr/bin/python3 bench/peers/brian2-hybrid.py N STEPS THREADS DIR
Prints one JSON line: {"n", "steps", "threads", "runSeconds", "compileSeconds", "meanE", "meanI", "brian2"}.
runSeconds is the simulated run alone, as Brian2's generated main timed it (no compile, no start-up).
"""
import json
import sys
import time

import numpy as np
import brian2 as b2

n, steps, threads, directory = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
numax, theta, s, tau, JE, JI, muE, muI, dt = 1.0, 0.0, 1.0, 1.0, 1.0, 2.0, 1.0, 0.0, 1e-3

b2.set_device('cpp_standalone', directory=directory, build_on_run=False)
b2.prefs.devices.cpp_standalone.openmp_threads = threads if threads > 1 else 0
b2.defaultclock.dt = dt * b2.second

# erfc from the C library (Brian2 has no built-in one): Phi(x) = erfc(-x / sqrt 2) / 2.
erfc = b2.Function(lambda x: __import__('scipy.special').special.erfc(x), arg_units=[1], return_unit=1)
erfc.implementations.add_implementation('cpp', code='', name='erfc')

eqs = '''
u : 1
isE : 1 (constant)
jE : 1 (constant)
jI : 1 (constant)
drive : 1 (constant)
f = numax * 0.5 * erfc(-(u - theta) / (s * sqrt(2))) : 1
totE : 1 (linked)
totI : 1 (linked)
'''
G = b2.NeuronGroup(2 * n, eqs)
isE = np.arange(2 * n) < n
G.isE = isE.astype(float)
G.jE = JE / np.sqrt(n)
G.jI = JI / np.sqrt(n)
G.drive = np.where(isE, muE, muI) * dt
# ei-engine's default initial state: u ~ N(0.5, 0.5) in E and N(-0.5, 0.5) in I.
rng = np.random.default_rng(1)
G.u = np.where(isE, 0.5, -0.5) + np.sqrt(0.5) * rng.standard_normal(2 * n)

P = b2.NeuronGroup(2, 'fsum : 1')
S = b2.Synapses(G, P, 'fsum_post = f_pre : 1 (summed)')
S.connect(i=np.arange(2 * n), j=np.where(isE, 0, 1))
G.totE = b2.linked_var(P, 'fsum', index=np.zeros(2 * n, dtype=int))
G.totI = b2.linked_var(P, 'fsum', index=np.ones(2 * n, dtype=int))

G.run_regularly('''
countE = poisson(dt_step * (totE - f * isE))
countI = poisson(dt_step * (totI - f * (1 - isE)))
u = u * (1 - dt_step / tau_) + drive + jE * countE - jI * countI
''', dt=b2.defaultclock.dt)

b2.run(steps * dt * b2.second, namespace={'dt_step': dt, 'tau_': tau, 'numax': numax, 'theta': theta, 's': s, 'erfc': erfc})
t0 = time.time()
b2.device.build(directory=directory, compile=True, run=False)
compile_seconds = time.time() - t0
b2.device.run(directory=directory, with_output=False, run_args=[])
u = np.asarray(G.u[:])
print(json.dumps({
    'n': n, 'steps': steps, 'threads': threads, 'runSeconds': b2.device._last_run_time, 'compileSeconds': compile_seconds,
    'meanE': float(u[:n].mean()), 'meanI': float(u[n:].mean()), 'brian2': b2.__version__,
}))
