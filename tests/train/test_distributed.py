"""DDP with the gloo backend on 2 CPU processes matches one process on the same global batch."""

import socket

import pytest
import torch
import torch.multiprocessing as mp

from cormorant_lab.nn import Cormorant
from cormorant_lab.train import (
    TrainConfig,
    Trainer,
    finish_distributed,
    in_process_group,
    load_task,
    seed_everything,
)

TINY = {"num_cg_levels": 1, "num_channels": 2, "maxl": 1, "max_sh": 1}
CONFIG = dict(epochs=2, batch_size=10, force_weight=1.0, device="cpu", dtype="float64", progress=False)


def _train(out_dir):
    torch.set_num_threads(1)
    task = load_task("md17", molecule="ethanol", n_train=40, n_valid=10, n_test=10)
    seed_everything(0)
    model = Cormorant.from_preset("md17", **TINY).double()
    trainer = Trainer(model, task.train, task.valid, TrainConfig(**CONFIG), units=task.units, output_dir=out_dir)
    result = trainer.fit()
    return trainer, result, trainer.evaluate(task.test)


def _worker(rank, port, out_dir, queue):
    import os

    os.environ.update(
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE="2", LOCAL_RANK=str(rank)
    )
    in_process_group(lambda info: _train_and_report(rank, out_dir if info.is_main else None, queue), backend="gloo")


def _train_and_report(rank, out_dir, queue):
    trainer, result, test = _train(out_dir)
    params = torch.cat([p.detach().reshape(-1) for p in trainer.model.parameters()])
    queue.put((rank, params.tolist(), [h["train_loss"] for h in result.history], test))  # plain data


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.timeout(300)
def test_ddp_matches_a_single_process(tmp_path):
    single, result, single_test = _train(tmp_path / "single")
    single_params = torch.cat([p.detach().reshape(-1) for p in single.model.parameters()])

    context = mp.get_context("spawn")
    queue = context.SimpleQueue()
    mp.start_processes(_worker, args=(_free_port(), str(tmp_path / "ddp"), queue), nprocs=2, start_method="spawn")
    outputs = dict((rank, rest) for rank, *rest in (queue.get() for _ in range(2)))

    for rank in (0, 1):
        params, losses, test = outputs[rank]
        torch.testing.assert_close(
            torch.tensor(params, dtype=torch.float64), single_params, rtol=1e-9, atol=1e-10
        )  # same global batch, averaged grads
        assert losses == pytest.approx([h["train_loss"] for h in result.history], rel=1e-9)
        assert test == pytest.approx(single_test, rel=1e-9)  # metrics summed over both shards
    assert (tmp_path / "ddp" / "last.pt").exists()
    initial = torch.cat([p.detach().reshape(-1) for p in Cormorant.from_preset("md17", **TINY).double().parameters()])
    assert not torch.allclose(single_params, initial)  # training moved the weights: the comparison is not vacuous


def test_finish_distributed_leaves_the_group(tmp_path):
    import torch.distributed as dist

    finish_distributed()  # no group: nothing to do
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    assert dist.is_initialized()
    finish_distributed()
    assert not dist.is_initialized()


def test_in_process_group_leaves_the_group_after_an_error(tmp_path):
    import torch.distributed as dist

    assert in_process_group(lambda info: info.world_size) == 1  # no group: a single process
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)

    def fails(info):
        assert info.world_size == 1 and dist.is_initialized()
        raise RuntimeError("work failed")

    with pytest.raises(RuntimeError, match="work failed"):
        in_process_group(fails)
    assert not dist.is_initialized()
