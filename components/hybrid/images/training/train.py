"""A small, complete training job that runs the same on the workstation (Slurm,
docker) and on Vertex AI (aihpc-burst).

Where things go follows Vertex AI's conventions, which the Slurm template
mirrors locally: AIP_CHECKPOINT_DIR, AIP_MODEL_DIR, AIP_TENSORBOARD_LOG_DIR
(gs:// paths on Vertex, read through its /gcs mount), AIHPC_DATASETS_DIR for
input. With AIHPC_EXPERIMENT set and credentials at hand, parameters and
metrics are logged to that Vertex AI experiment (run AIHPC_RUN) backed by the
stack's Tensorboard (AIHPC_TENSORBOARD): one place for local and cloud runs.
"""
import argparse
import json
import os
import time

import torch


def local_path(p):
    """gs://bucket/x -> /gcs/bucket/x (Vertex AI mounts Cloud Storage there)."""
    return "/gcs/" + p[len("gs://"):] if p and p.startswith("gs://") else p


def experiment_logger(args):
    exp, run = os.environ.get("AIHPC_EXPERIMENT"), os.environ.get("AIHPC_RUN")
    if not exp or not run:
        return None
    try:
        from google.cloud import aiplatform

        aiplatform.init(
            project=os.environ.get("AIHPC_PROJECT"),
            location=os.environ.get("AIHPC_REGION"),
            experiment=exp,
            experiment_tensorboard=os.environ.get("AIHPC_TENSORBOARD") or None,
        )
        aiplatform.start_run(run, resume=True)
        aiplatform.log_params({k: v for k, v in vars(args).items() if isinstance(v, (int, float, str))})
        return aiplatform
    except Exception as e:  # no SDK, no credentials, no network: train anyway
        print(f"experiment logging off: {e}")
        return None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--lr", type=float, default=1e-2)
    p.add_argument("--hidden", type=int, default=512)
    args = p.parse_args()

    device = "cuda" if torch.cuda.is_available() else "cpu"
    ckpt_dir = local_path(os.environ.get("AIP_CHECKPOINT_DIR", "checkpoints"))
    model_dir = local_path(os.environ.get("AIP_MODEL_DIR", "model"))
    data_dir = os.environ.get("AIHPC_DATASETS_DIR")
    for d in (ckpt_dir, model_dir):
        os.makedirs(d, exist_ok=True)
    print(json.dumps({"device": device, "gpus": torch.cuda.device_count(), "data": data_dir, "checkpoints": ckpt_dir,
                      "target": os.environ.get("AIHPC_TARGET", "unknown"), "run": os.environ.get("AIHPC_RUN")}))

    torch.manual_seed(0)
    # Synthetic regression unless a dataset brings its own loader: the point is the plumbing.
    w_true = torch.randn(64, 1, device=device)
    model = torch.nn.Sequential(torch.nn.Linear(64, args.hidden), torch.nn.ReLU(), torch.nn.Linear(args.hidden, 1)).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr)
    start = 0
    ckpt = os.path.join(ckpt_dir, "last.pt")
    if os.path.exists(ckpt):  # resume (a preempted Spot job, a requeued Slurm job)
        state = torch.load(ckpt, map_location=device)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        start = state["step"] + 1

    exp = experiment_logger(args)
    t0 = time.time()
    for step in range(start, args.steps):
        x = torch.randn(args.batch_size, 64, device=device)
        loss = torch.nn.functional.mse_loss(model(x), x @ w_true)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 50 == 0 or step == args.steps - 1:
            print(f"step {step} loss {loss.item():.5f}")
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step}, ckpt)
            if exp:
                exp.log_time_series_metrics({"loss": loss.item()}, step=step)
    torch.save(model.state_dict(), os.path.join(model_dir, "model.pt"))
    summary = {"final_loss": loss.item() if args.steps > start else None, "seconds": time.time() - t0}
    print(json.dumps(summary))
    if exp:
        exp.log_metrics({k: v for k, v in summary.items() if v is not None})
        exp.end_run()


if __name__ == "__main__":
    main()
