"""Train the ghara joint model: ``python train.py --config configs/tiny.yaml``.

A thin command line over :mod:`model.training` (see its docstring for the config keys,
``--set key=value``, ``--resume`` and ``--seeds``). Works unchanged under
``accelerate launch train.py ...`` for several GPUs.
"""

from model.training import main

if __name__ == "__main__":
    main()
