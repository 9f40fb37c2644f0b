#!/usr/bin/env python3
"""A reviewer's aid: prints, for every Python-level method an unpickler reaches through the vetted entries (see
review.py), the lines that name something risky (files, processes, imports, code, environment, native code, warnings,
CUDA). It screens; it does not decide. Run it in each modelled interpreter when update.sh shows changed fingerprints:

    python3 scripts/harmless/screen.py
    ../shared/tools/torch-oracle run 2.14 sh -c 'cd /src && python3 scripts/harmless/screen.py'
"""
import json, inspect, importlib, re, sys, warnings
warnings.filterwarnings("ignore")
sys.path.insert(0, '/src/scripts/harmless'); sys.path.insert(0, 'scripts/harmless')
from review import resolve, CLASS_METHODS
import os
path = '/src/libs/scanner/data/harmless.json' if os.path.exists('/src') else 'libs/scanner/data/harmless.json'
RISK = re.compile(r"\b(open|exec|eval|compile|__import__|import_module|importlib|subprocess|os\.|sys\.|ctypes|pickle|load\(|hub|globals\(|setattr\(|getattr\(|environ|signal|socket|thread|warn|cuda|_C\.)")
seen=set()
for e in json.load(open(path))['entries']:
    obj = resolve(e['global'])
    if obj is None: continue
    fns=[]
    if inspect.isclass(obj):
        for name in CLASS_METHODS:
            for base in obj.__mro__:
                if name in base.__dict__:
                    if base is not object: fns.append((f"{base.__module__}.{base.__qualname__}.{name}", base.__dict__[name]))
                    break
    else: fns.append((e['global'], obj))
    for q, f in fns:
        f = getattr(f,'__func__',f)
        if q in seen or not hasattr(f,'__code__'): continue
        seen.add(q)
        try: src=inspect.getsource(f)
        except Exception: continue
        hits=[l.strip() for l in src.splitlines() if RISK.search(l) and not l.strip().startswith('#')]
        if hits: print('##', q); [print('   ', h[:150]) for h in hits]
