#!/usr/bin/env python3
"""Synthetic avazu-like CTR data (the Kaggle "avazu-ctr-prediction" train.csv layout).

Runs on the host with the standard library only (no numpy/pandas):

    python3 generate.py --rows 1000000 -o train.csv      # about 10-15 s
    python3 generate.py --rows 10000 | head

Columns, as in avazu: id, click, hour, C1, banner_pos, site_id, site_domain,
site_category, app_id, app_domain, app_category, device_id, device_ip,
device_model, device_type, device_conn_type, C14, C15, C16, C17, C18, C19, C20, C21.

What makes it look like the real thing:
  * rows sorted by hour (YYMMDDHH over 10 days from 14102100) with a daily cycle;
  * categorical values are 8-hex-digit tokens drawn from Zipf-like (heavy-tailed)
    distributions with avazu-like cardinalities; site rows use the "no app"
    tokens (app_id ecad2386 ...) and app rows the "no site" tokens
    (site_id 85f751fd ...); device_id is dominated by a99f214a; device_ip is
    very high cardinality;
  * site_domain/site_category follow site_id, app_domain/app_category follow app_id,
    and C15..C21 follow the creative id C14, as they largely do in avazu;
  * click (~17% positive) depends on site/app, banner position, device type,
    hour of day and creative, so a model can learn something.
Same --seed, same output.
"""
import argparse
import bisect
import itertools
import math
import random
import sys
import time

COLUMNS = ["id", "click", "hour", "C1", "banner_pos", "site_id", "site_domain",
           "site_category", "app_id", "app_domain", "app_category", "device_id",
           "device_ip", "device_model", "device_type", "device_conn_type",
           "C14", "C15", "C16", "C17", "C18", "C19", "C20", "C21"]

NO_APP = ("ecad2386", "7801e8d9", "07d7df22")     # app_id, app_domain, app_category on site traffic
NO_SITE = ("85f751fd", "c4e18dd6", "50e219e0")    # site_id, site_domain, site_category on app traffic
MAIN_DEVICE_ID = "a99f214a"


def zipf_cum(n, s):
    """Cumulative weights of a Zipf(s) law over ranks 1..n."""
    return list(itertools.accumulate(1.0 / (k ** s) for k in range(1, n + 1)))


class Vocab:
    """n distinct 8-hex tokens with Zipf(s) frequencies, each with a click effect."""

    def __init__(self, rng, n, s, effect_sd, first=None, avoid=()):
        seen = set(avoid)
        tokens = []
        if first:
            tokens.append(first)
            seen.add(first)
        while len(tokens) < n:
            t = "%08x" % rng.getrandbits(32)
            if t not in seen:
                seen.add(t)
                tokens.append(t)
        self.tokens = tokens
        self.cum = zipf_cum(n, s)
        self.effect = {t: rng.gauss(0.0, effect_sd) for t in tokens}

    def sample(self, rng, k):
        return rng.choices(self.tokens, cum_weights=self.cum, k=k)


def build_model(seed):
    rng = random.Random(seed * 7919 + 17)
    m = {}
    m["site"] = Vocab(rng, 4000, 1.15, 0.6, avoid=NO_SITE)
    m["site_domain_of"] = {}
    m["site_category_of"] = {}
    domains = Vocab(rng, 3000, 1.1, 0.0, avoid=NO_SITE).tokens
    site_cats = Vocab(rng, 22, 1.3, 0.4, first="50e219e0").tokens[1:]
    cat_cum = zipf_cum(len(site_cats), 1.3)
    for i, t in enumerate(m["site"].tokens):
        m["site_domain_of"][t] = domains[i % len(domains)]
        m["site_category_of"][t] = rng.choices(site_cats, cum_weights=cat_cum)[0]
    m["app"] = Vocab(rng, 6000, 1.2, 0.7, avoid=NO_APP)
    app_domains = Vocab(rng, 500, 1.3, 0.0, avoid=NO_APP).tokens
    app_cats = Vocab(rng, 30, 1.6, 0.0, avoid=NO_APP).tokens
    adom_cum, acat_cum = zipf_cum(len(app_domains), 1.3), zipf_cum(len(app_cats), 1.6)
    m["app_domain_of"] = {t: rng.choices(app_domains, cum_weights=adom_cum)[0] for t in m["app"].tokens}
    m["app_category_of"] = {t: rng.choices(app_cats, cum_weights=acat_cum)[0] for t in m["app"].tokens}
    m["device_model"] = Vocab(rng, 5000, 1.05, 0.15)
    # creatives: C14 with the fields that follow it
    sizes = [((320, 50), 0.93), ((300, 250), 0.04), ((216, 36), 0.01), ((728, 90), 0.006),
             ((120, 20), 0.002), ((1024, 768), 0.001), ((480, 320), 0.0005), ((768, 1024), 0.0005)]
    size_vals, size_cum = [s for s, _ in sizes], list(itertools.accumulate(w for _, w in sizes))
    c14_vals = rng.sample(range(375, 24053), 2400)
    m["c14"] = c14_vals
    m["c14_cum"] = zipf_cum(len(c14_vals), 0.9)
    c19_vals = sorted(rng.sample(range(33, 1960), 65))
    c19_cum = zipf_cum(len(c19_vals), 1.2)
    c21_vals = sorted(rng.sample(range(1, 256), 60))
    c21_cum = zipf_cum(len(c21_vals), 1.1)
    m["creative"] = {}
    for c14 in c14_vals:
        c15, c16 = rng.choices(size_vals, cum_weights=size_cum)[0]
        c20 = -1 if rng.random() < 0.47 else 100000 + min(248, int(rng.paretovariate(1.2)) - 1)
        m["creative"][c14] = (
            "%d" % c15, "%d" % c16,
            "%d" % (112 + (c14 * 131) % 2647),                       # C17
            "%d" % rng.choices((0, 3, 2, 1), weights=(42, 33, 19, 6))[0],  # C18
            "%d" % rng.choices(c19_vals, cum_weights=c19_cum)[0],     # C19
            "%d" % c20,
            "%d" % rng.choices(c21_vals, cum_weights=c21_cum)[0],     # C21
            rng.gauss(0.0, 0.5),                                      # click effect
        )
    return m


# small categorical columns: (values, weights, click effects)
C1 = (["1005", "1002", "1010", "1012", "1007", "1001", "1008"],
      [91.9, 5.5, 2.2, 0.28, 0.09, 0.02, 0.01], [0.0, 0.25, -0.6, 0.5, -0.2, 0.0, 0.3])
BANNER_POS = (["0", "1", "7", "2", "4", "5", "3"],
              [72.0, 27.8, 0.11, 0.03, 0.02, 0.01, 0.01], [0.0, 0.05, 0.9, -0.2, 0.3, -0.2, 0.1])
DEVICE_TYPE = (["1", "0", "4", "5", "2"], [92.3, 5.5, 1.9, 0.3, 0.001], [0.0, 0.25, -0.6, -0.5, 0.0])
CONN_TYPE = (["0", "2", "3", "5"], [86.3, 8.2, 5.4, 0.1], [0.0, -0.5, -0.9, -1.5])
HOUR_EFFECT = [0.05 * math.sin(2 * math.pi * (h - 3) / 24.0) for h in range(24)]
# traffic by hour of day (relative), lowest around 03h, highest around 13h
HOUR_WEIGHT = [1.0 + 0.6 * math.sin(2 * math.pi * (h - 7) / 24.0) for h in range(24)]


def hour_index(n):
    """Row i -> hour bucket (0..239); non-decreasing in i, following the daily cycle."""
    weights = [HOUR_WEIGHT[b % 24] * (1.0 + 0.05 * ((b // 24) % 7 in (5, 6))) for b in range(240)]
    cum = list(itertools.accumulate(weights))
    total = cum[-1]
    return cum, total


def generate(rows, seed, out, chunk=100000, progress=None):
    m = build_model(seed)
    rng = random.Random(seed)
    cum_hours, total_hours = hour_index(rows)
    hour_labels = []
    for b in range(240):
        day, hh = 21 + b // 24, b % 24
        hour_labels.append("1410%02d%02d" % (day, hh))
    small = {}
    for name, (vals, weights, effects) in (("C1", C1), ("banner_pos", BANNER_POS),
                                             ("device_type", DEVICE_TYPE),
                                             ("device_conn_type", CONN_TYPE)):
        small[name] = (vals, list(itertools.accumulate(weights)), dict(zip(vals, effects)))
    site, app, dmodel = m["site"], m["app"], m["device_model"]
    sdom, scat, adom, acat = (m["site_domain_of"], m["site_category_of"],
                              m["app_domain_of"], m["app_category_of"])
    creative, c14_vals, c14_cum = m["creative"], m["c14"], m["c14_cum"]
    base = -1.72
    exp, rnd, getrandbits = math.exp, rng.random, rng.getrandbits
    out.write(",".join(COLUMNS) + "\n")
    clicks = 0
    done = 0
    while done < rows:
        k = min(chunk, rows - done)
        c1 = rng.choices(small["C1"][0], cum_weights=small["C1"][1], k=k)
        bp = rng.choices(small["banner_pos"][0], cum_weights=small["banner_pos"][1], k=k)
        dt = rng.choices(small["device_type"][0], cum_weights=small["device_type"][1], k=k)
        ct = rng.choices(small["device_conn_type"][0], cum_weights=small["device_conn_type"][1], k=k)
        sites = site.sample(rng, k)
        apps = app.sample(rng, k)
        models = dmodel.sample(rng, k)
        c14s = rng.choices(c14_vals, cum_weights=c14_cum, k=k)
        e_c1, e_bp, e_dt, e_ct = (small["C1"][2], small["banner_pos"][2],
                                  small["device_type"][2], small["device_conn_type"][2])
        e_site, e_app = site.effect, app.effect
        lines = []
        append = lines.append
        for j in range(k):
            i = done + j
            b = bisect.bisect_right(cum_hours, (i + 0.5) * total_hours / rows)
            if b > 239:
                b = 239
            c14 = c14s[j]
            cr = creative[c14]
            logit = base + e_c1[c1[j]] + e_bp[bp[j]] + e_dt[dt[j]] + e_ct[ct[j]] + cr[7] + HOUR_EFFECT[b % 24]
            if rnd() < 0.36:   # app traffic
                a = apps[j]
                s_id, s_dom, s_cat = NO_SITE
                a_id, a_dom, a_cat = a, adom[a], acat[a]
                logit += e_app[a] - 0.15
            else:              # site traffic
                s = sites[j]
                s_id, s_dom, s_cat = s, sdom[s], scat[s]
                a_id, a_dom, a_cat = NO_APP
                logit += e_site[s]
            if rnd() < 0.825:
                dev_id = MAIN_DEVICE_ID
            else:
                dev_id = "%08x" % getrandbits(32)
                logit -= 0.3
            # device_ip: a heavy-tailed pool of shared addresses (NAT, carriers)
            # plus a huge tail of nearly unique ones
            if rnd() < 0.08:
                ip_rank = int(rnd() ** -2.5)
                dev_ip = "%08x" % ((ip_rank * 2654435761 + 0x9e3779b9) & 0xffffffff)
            else:
                dev_ip = "%08x" % getrandbits(32)
            click = 1 if rnd() < 1.0 / (1.0 + exp(-logit)) else 0
            clicks += click
            append("%d,%d,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%d,%s,%s,%s,%s,%s,%s,%s\n" % (
                getrandbits(64), click, hour_labels[b], c1[j], bp[j], s_id, s_dom, s_cat,
                a_id, a_dom, a_cat, dev_id, dev_ip, models[j], dt[j], ct[j],
                c14, cr[0], cr[1], cr[2], cr[3], cr[4], cr[5], cr[6]))
        out.write("".join(lines))
        done += k
        if progress:
            progress(done)
    return clicks


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", "-n", type=int, default=10000, help="data rows to write (default 10000)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--output", "-o", default="-", help="output file (default stdout)")
    ap.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    args = ap.parse_args()
    if args.rows < 0:
        ap.error("--rows must be >= 0")
    started = time.time()
    out = sys.stdout if args.output == "-" else open(args.output, "w", encoding="utf-8", newline="\n")

    def progress(done):
        if not args.quiet and args.rows >= 500000:
            print("generate.py: %d/%d rows" % (done, args.rows), file=sys.stderr, flush=True)

    try:
        clicks = generate(args.rows, args.seed, out, progress=progress)
    except BrokenPipeError:
        return 0
    finally:
        if out is not sys.stdout:
            out.close()
    if not args.quiet:
        print("generate.py: %d rows, CTR %.3f, %.1fs" % (args.rows, clicks / max(1, args.rows),
                                                          time.time() - started), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
