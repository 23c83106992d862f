"""Train a peer toolkit for a fixed number of steps and report its training speed as JSON.

Why: gives the project a reproducible, like-for-like throughput baseline.  Every peer trains the same model
(2-layer uni-LSTM encoder + decoder, emb 256, hidden 512, dropout 0.2, 64-sentence batches, Adam 1e-3
constant, grad-norm clip 5) on the files written by prepare.py, on 2 threads.  Speed is the toolkit's own
per-interval target tokens/s (EOS included), median over the intervals that end after the warm-up steps.
Peak RSS is the training process's max resident set (getrusage of the waited child).

  onmt            no attention, no input feeding, source reversed (tok_rev)
  onmt --attention  Luong 'general' attention + input feeding, normal source order
  joey            Joey's recurrent decoder always attends: Luong + input feeding (attention implied)
  eole            as onmt (Eole is OpenNMT-py's successor: same RNN modules, same log line)
  eole --attention  as onmt --attention
  fairseq         ve-fairseq 0.12.3 (a cp311 build of fairseq 0.12), --arch lstm, source reversed;
                  its LSTM decoder always feeds its previous output back in (cannot be turned off),
                  so the no-attention model has 18,488,888 parameters, not 17,440,312
  fairseq --attention  Luong-style 'general' attention + input feeding, 19,275,320 params

Usage: python bench/peers/run_peer.py --peer onmt|joey|eole|fairseq [--attention] --steps 350
       --work WORK
       [--warmup 100] [--log-every 50] [--timeout SECONDS] [--venvs .bench-venv] [--out bench/results]
"""

import argparse
import json
import os
import pathlib
import re
import resource
import statistics
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[2]

# (step, tgt tok/s) per logged interval, and the parameter count, as each toolkit prints them.
STEP_RE = {
    "onmt": re.compile(r"Step\s+(\d+)/\s*\d+;.*?\d+/\s*(\d+) tok/s"),
    "joey": re.compile(r"Step:\s+(\d+),.*Tokens per Sec:\s+([\d.]+)"),
    "eole": re.compile(r"Step\s+(\d+)/\s*\d+;.*?\d+/\s*(\d+) tok/s"),
    # fairseq prints wps (target tokens incl. EOS per second, per log interval) before num_updates
    "fairseq": re.compile(r"\| train_inner \|(?=.*num_updates=(\d+)).*? wps=([\d.]+),"),
}
PARAMS_RE = {
    "onmt": re.compile(r"\* number of parameters: (\d+)"),
    "joey": re.compile(r"Total params: (\d+)"),
    "eole": re.compile(r"\* number of parameters: (\d+)"),
    "fairseq": re.compile(r"num\. (?:shared )?model params: ([\d,]+)"),
}
DIST = {"onmt": "OpenNMT-py", "joey": "joeynmt", "eole": "eole", "fairseq": "ve-fairseq"}
CONFIG_FILE = {"fairseq": "args.txt"}  # fairseq-train takes no config file: its argument list


def onmt_config(a, run: pathlib.Path) -> tuple[str, list[str]]:
    """onmt_train YAML; vocab files come from prepare.py (no onmt_build_vocab pass needed)."""
    data = a.work / ("tok" if a.attention else "tok_rev")
    att, feed = ("general", 1) if a.attention else ("none", 0)
    layers, emb, hidden = (4, 1000, 1000) if a.preset == "paper" else (2, 256, 512)
    batch = (
        "batch_type: tokens\nbatch_size: 6000\nvalid_batch_size: 64\nnormalization: tokens"
        if a.preset == "paper"  # seq2seq's paper preset: 6,000-token batches
        else "batch_type: sents\nbatch_size: 64\nvalid_batch_size: 64\nnormalization: sents"
    )
    # on a GPU OpenNMT-py's fastest: fp16 mixed precision (it has no bf16 autocast)
    device = "gpu_ranks: [0]\nmodel_dtype: fp16\n" if a.gpu else "model_dtype: fp32\n"
    cfg = f"""\
save_data: {run}/data
src_vocab: {a.work}/vocab/onmt.de
tgt_vocab: {a.work}/vocab/onmt.en
src_vocab_size: 10000
tgt_vocab_size: 10000
src_words_min_frequency: 1
tgt_words_min_frequency: 1
overwrite: true
data:
  corpus_1: {{path_src: {data}/train.de, path_tgt: {data}/train.en}}
  valid: {{path_src: {data}/val.de, path_tgt: {data}/val.en}}
src_seq_length: 100
tgt_seq_length: 100
encoder_type: rnn
decoder_type: rnn
rnn_type: LSTM
enc_layers: {layers}
dec_layers: {layers}
word_vec_size: {emb}
hidden_size: {hidden}
dropout: 0.2
global_attention: {att}
input_feed: {feed}
bridge: false
seed: 1234
optim: adam
learning_rate: 0.001
decay_method: none
max_grad_norm: 5
param_init: 0.1
{batch}
accum_count: 1
num_workers: 0
bucket_size: 29000
train_steps: {a.steps}
valid_steps: 1000000
save_checkpoint_steps: 1000000
report_every: {a.log_every}
save_model: {run}/model
world_size: 1
{device}"""
    venv = a.venvs / "onmt"
    return cfg, [str(venv / "bin/onmt_train"), "-config", str(run / "config.yaml")]


def eole_config(a, run: pathlib.Path) -> tuple[str, list[str]]:
    """eole train YAML for the same model as onmt_config.  Eole nests model and training options;
    `input_feed` picks InputFeedRNNDecoder (else StdRNNDecoder), `global_attention: null` = none,
    `position_encoding_type: null` keeps sinusoidal positions off the RNN embeddings, and
    `log_attention_entropy: false` drops a per-step statistic OpenNMT-py does not compute.  The
    vocabularies are padded to a multiple of 8 (Eole's and OpenNMT-py's default), so the parameter
    counts match OpenNMT-py's (17,440,312 without attention, 19,275,320 with)."""
    data = a.work / ("tok" if a.attention else "tok_rev")
    att, feed = ("general", 1) if a.attention else ("null", 0)
    cfg = f"""\
save_data: {run}/data
src_vocab: {a.work}/vocab/onmt.de
tgt_vocab: {a.work}/vocab/onmt.en
src_vocab_size: 10000
tgt_vocab_size: 10000
vocab_size_multiple: 8
src_words_min_frequency: 1
tgt_words_min_frequency: 1
overwrite: true
seed: 1234
report_every: {a.log_every}
data:
  corpus_1: {{path_src: {data}/train.de, path_tgt: {data}/train.en}}
  valid: {{path_src: {data}/val.de, path_tgt: {data}/val.en}}
model:
  architecture: rnn
  rnn_type: LSTM
  layers: 2
  hidden_size: 512
  input_feed: {feed}
  embeddings: {{word_vec_size: 256, position_encoding_type: null}}
  encoder: {{encoder_type: rnn, bridge: false}}
  decoder: {{decoder_type: rnn, global_attention: {att}}}
training:
  model_path: {run}/model
  optim: adam
  learning_rate: 0.001
  decay_method: none
  max_grad_norm: 5
  param_init: 0.1
  param_init_method: uniform
  dropout: [0.2]
  label_smoothing: 0.0
  log_attention_entropy: false
  batch_type: sents
  batch_size: 64
  valid_batch_size: 64
  normalization: sents
  accum_count: [1]
  num_workers: 0
  bucket_size: 29000
  train_steps: {a.steps}
  valid_steps: 1000000
  save_checkpoint_steps: 1000000
  world_size: 1
  gpu_ranks: []
  compute_dtype: fp32
"""
    return cfg, [str(a.venvs / "eole" / "bin/eole"), "train", "-config", str(run / "config.yaml")]


def fairseq_config(a, run: pathlib.Path) -> tuple[str, list[str]]:
    """fairseq-train arguments (the settings of the reference fairseq runs), one per line as `cfg`.
    Binarises the prepared text first with fairseq-preprocess (10k words per side, padded to a
    multiple of 8 as in OpenNMT-py and Eole), once per source order under WORK/fairseq; that is
    untimed, and its peak RSS (a smaller, earlier child) does not reach training's."""
    data = "tok" if a.attention else "tok_rev"
    binned, bin_dir = a.work / "fairseq" / data, a.venvs / "fairseq" / "bin"
    if not (binned / "dict.en.txt").exists():
        with open(run / "preprocess.log", "w") as log:
            pre = f"--source-lang de --target-lang en --trainpref {a.work}/{data}/train"
            pre += f" --validpref {a.work}/{data}/val --nwordssrc 10000 --nwordstgt 10000"
            pre += f" --destdir {binned} --workers 1"
            cmd = [str(bin_dir / "fairseq-preprocess"), *pre.split()]
            subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, check=True)
    args = f"""{binned} --cpu --seed 1 --arch lstm
    --encoder-embed-dim 256 --encoder-hidden-size 512 --encoder-layers 2
    --decoder-embed-dim 256 --decoder-hidden-size 512 --decoder-layers 2
    --decoder-out-embed-dim 512 --decoder-attention {a.attention}
    --dropout 0.2 --encoder-dropout-in 0.2 --encoder-dropout-out 0.2
    --decoder-dropout-in 0.2 --decoder-dropout-out 0.2
    --optimizer adam --adam-betas (0.9,0.999) --lr 0.001 --lr-scheduler fixed --clip-norm 5
    --criterion cross_entropy --sentence-avg --batch-size 64
    --max-source-positions 100 --max-target-positions 100 --skip-invalid-size-inputs-valid-test
    --max-update {a.steps} --disable-validation --no-save --save-dir {run}/checkpoints
    --num-workers 0 --log-format simple --log-interval {a.log_every}""".split()
    return "\n".join(args) + "\n", [str(bin_dir / "fairseq-train"), *args]


def joey_config(a, run: pathlib.Path) -> tuple[str, list[str]]:
    """Joey YAML.  'exponential' with decrease_factor 1.0 = constant lr (Joey 2.3.0 has no 'none' scheduler
    that works on torch 2.13); validation_freq above the step count so no validation is timed."""
    data = a.work / "tok"

    def side(lang: str) -> str:
        return f"""\
        lang: "{lang}"
        voc_file: "{a.work}/vocab/joey.{lang}"
        max_length: 100
        min_length: 1
        lowercase: False
        normalize: False
        level: "word"
        voc_limit: 10000
        voc_min_freq: 1"""

    emb = """\
        embeddings:
            embedding_dim: 256
            scale: False
        hidden_size: 512
        dropout: 0.2
        num_layers: 2"""
    cfg = f"""\
name: "peer_bench"
joeynmt_version: "2.3.0"
data:
    train: "{data}/train"
    dev: "{data}/val"
    dataset_type: "plain"
    sample_dev_subset: 200
    src:
{side("de")}
    trg:
{side("en")}
testing:
    beam_size: 1
    batch_size: 64
    batch_type: "sentence"
    max_output_length: 100
    eval_metrics: ["bleu"]
training:
    random_seed: 42
    optimizer: "adam"
    adam_betas: [0.9, 0.999]
    learning_rate: 0.001
    learning_rate_min: 1.0e-8
    clip_grad_norm: 5.0
    scheduling: "exponential"
    decrease_factor: 1.0
    loss: "crossentropy"
    label_smoothing: 0.0
    batch_size: 64
    batch_type: "sentence"
    batch_multiplier: 1
    normalization: "batch"
    epochs: 1000
    updates: {a.steps}
    validation_freq: 1000000
    logging_freq: {a.log_every}
    early_stopping_metric: "loss"
    model_dir: "{run}/model"
    overwrite: True
    shuffle: True
    use_cuda: False
    fp16: False
    keep_best_ckpts: 1
    num_workers: 0
model:
    initializer: "uniform"
    init_weight: 0.1
    bias_initializer: "zeros"
    embed_initializer: "uniform"
    embed_init_weight: 0.1
    lstm_forget_gate: 0.
    tied_embeddings: False
    tied_softmax: False
    encoder:
        type: "recurrent"
        rnn_type: "lstm"
        bidirectional: False
{emb}
    decoder:
        type: "recurrent"
        rnn_type: "lstm"
        hidden_dropout: 0.2
        input_feeding: True
        init_hidden: "last"
        attention: "luong"
{emb}
"""
    py = a.venvs / "joey" / "bin/python"
    return cfg, [str(py), "-m", "joeynmt", "train", str(run / "config.yaml"), "--skip-test"]


def parse_log(peer: str, text: str) -> tuple[list[tuple[int, float]], int | None]:
    """Per-interval (step, tgt tok/s) rows, de-duplicated by step, and the parameter count."""
    rows = {int(m[1]): float(m[2]) for m in STEP_RE[peer].finditer(text)}
    p = PARAMS_RE[peer].search(text)
    return sorted(rows.items()), int(p[1].replace(",", "")) if p else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--peer", choices=("onmt", "joey", "eole", "fairseq"), required=True)
    ap.add_argument("--attention", action="store_true")
    ap.add_argument(
        "--preset",
        choices=("bench", "paper"),
        default="bench",
        help="paper: 4 x 1000, embeddings 1000, 6,000-token batches (onmt only; bench/gpu.sh)",
    )
    ap.add_argument("--gpu", action="store_true", help="train on GPU 0 (onmt only; bench/gpu.sh)")
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds; on expiry report the steps logged so far",
    )
    ap.add_argument(
        "--work", type=pathlib.Path, required=True, help="directory written by prepare.py"
    )
    ap.add_argument("--venvs", type=pathlib.Path, default=REPO / ".bench-venv")
    ap.add_argument("--out", type=pathlib.Path, default=REPO / "bench" / "results")
    a = ap.parse_args()
    a.work, a.venvs = a.work.resolve(), a.venvs.resolve()
    if a.peer == "joey" and not a.attention:
        print(
            "note: Joey's recurrent decoder cannot run without attention; using Luong + input feeding"
        )
        a.attention = True
    if (a.preset != "bench" or a.gpu) and a.peer != "onmt":
        sys.exit("--preset paper and --gpu are written for --peer onmt only")
    tag = f"{a.peer}{'_attn' if a.attention else ''}{'_paper' if a.preset == 'paper' else ''}"
    tag += "_gpu" if a.gpu else ""
    run = a.work / "runs" / tag
    run.mkdir(parents=True, exist_ok=True)
    config = {
        "onmt": onmt_config,
        "joey": joey_config,
        "eole": eole_config,
        "fairseq": fairseq_config,
    }[a.peer]
    cfg, cmd = config(a, run)
    (run / CONFIG_FILE.get(a.peer, "config.yaml")).write_text(cfg)

    env = dict(
        os.environ,
        OMP_NUM_THREADS="2",
        MKL_NUM_THREADS="2",
        # torch>=2.6 loads weights_only by default; these toolkits pickle config objects
        TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD="1",
    )
    log = run / "train.log"
    print("running:", " ".join(cmd), f"> {log}", flush=True)
    t0 = time.time()
    with (
        open(log, "w") as f,
        subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, env=env) as proc,
    ):
        try:
            rc = proc.wait(timeout=a.timeout)
        except (
            subprocess.TimeoutExpired
        ):  # keep the intervals logged so far, mark the result partial
            proc.kill()
            proc.wait()
            rc = None
    wall = time.time() - t0
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    text = log.read_text(errors="replace")
    rows, params = parse_log(a.peer, text)
    timed = [tok_s for step, tok_s in rows if step > a.warmup]
    if rc not in (0, None) or not timed:
        sys.exit(
            f"{a.peer}: exit code {rc}, {len(timed)} intervals after warm-up; see {log}\n"
            + "\n".join(text.splitlines()[-15:])
        )

    version = subprocess.run(
        [
            str(a.venvs / a.peer / "bin/python"),
            "-c",
            f"import importlib.metadata as m; print(m.version('{DIST[a.peer]}'))",
        ],
        capture_output=True,
        text=True,
    ).stdout.strip()
    result = {
        "peer": DIST[a.peer],
        "version": version,
        "attention": a.attention,
        "steps": a.steps,
        "steps_logged": rows[-1][0],
        "timed_out": rc is None,
        "warmup_steps": a.warmup,
        "log_every": a.log_every,
        "intervals": len(timed),
        "median_tgt_tok_s": round(statistics.median(timed)),
        "interval_tgt_tok_s": timed,
        "peak_rss_gib": round(peak_kib / 2**20, 3),
        "params": params,
        "wall_s": round(wall, 1),
        "threads": 2,
        # the script and the scratch folder named without this machine's paths
        "command": " ".join(
            ["bench/peers/run_peer.py"] + [x.replace(str(a.work), "WORK") for x in sys.argv[1:]]
        ),
    }
    a.out.mkdir(parents=True, exist_ok=True)
    out = a.out / f"peers_{tag}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print("wrote", out)


if __name__ == "__main__":
    main()
