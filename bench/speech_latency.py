"""Look-ahead, real-time factor and WER / CER of speech runs on the first N utterances of a
manifest: a full-context run decodes each whole utterance, a streaming run chunk by chunk
(its last partial text is scored). One JSON line per run on stdout.

    python bench/speech_latency.py --runs runs/asr-joint runs/asr-streaming \
        --manifest data/speech-synth/test.tsv -n 50
"""

from __future__ import annotations

import argparse
import json
import platform

import torch

from seq2seq.data.speech import read_manifest
from seq2seq.evaluation import asr_error_rates
from seq2seq.transcriber import Transcriber


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--runs", nargs="+", required=True)
    p.add_argument("--manifest", required=True)
    p.add_argument("-n", type=int, default=50)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    utts = read_manifest(args.manifest)[: args.n]
    paths, refs = [str(u.audio) for u in utts], [[u.text] for u in utts]
    for run in args.runs:
        t = Transcriber.load(run, device="cpu")
        streaming = t.cfg.model.encoder == "streaming"
        if streaming:
            hyps = [list(t.stream(x, beam=1))[-1].text for x in paths]
        else:
            hyps = [nb[0].text for nb in t.transcribe(paths, beam=1)]
        report = t.latency(paths)  # decodes again, timed
        print(
            json.dumps(
                {
                    "run": run,
                    "encoder": t.cfg.model.encoder,
                    "ctc_weight": t.cfg.model.ctc_weight,
                    "utterances": len(paths),
                    "audio_s": round(report["audio_s"], 1),
                    "lookahead_s": round(report["lookahead_s"], 3),
                    "whole_utterance": report["whole_utterance"],
                    "cmvn": t.cfg.data.speech.cmvn,
                    "rtf": round(report["rtf"], 4),
                    **asr_error_rates(hyps, refs),
                    "cpu": platform.processor() or platform.machine(),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
