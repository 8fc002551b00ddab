import unittest

from argmax_trainers.errors import UserError
from argmax_trainers.params import parse_job_params, resolve_trainer_params


class JobParamsTest(unittest.TestCase):
    def test_defaults(self):
        job = parse_job_params('{"target": "y"}')
        self.assertEqual((job.target, job.features, job.task, job.seed, job.checkpoint_every), ("y", None, None, 0, 50))

    def refused(self, text: str) -> UserError:
        with self.assertRaises(UserError) as caught:
            parse_job_params(text)
        return caught.exception

    def test_refusals_name_the_parameter(self):
        self.assertEqual(self.refused("{}").parameter, "target")
        self.assertEqual(self.refused("not json").parameter, "params")
        self.assertEqual(self.refused('{"target": "y", "tasks": "x"}').parameter, "tasks")
        self.assertEqual(self.refused('{"target": "y", "task": "ranking"}').parameter, "task")
        self.assertEqual(self.refused('{"target": "y", "seed": -1}').parameter, "seed")
        self.assertEqual(self.refused('{"target": "y", "features": ["y"]}').parameter, "features")
        self.assertEqual(self.refused('{"target": "y", "checkpointEvery": 0}').parameter, "checkpointEvery")


class TrainerParamsTest(unittest.TestCase):
    def refused(self, trainer: str, task: str, params: dict) -> UserError:
        with self.assertRaises(UserError) as caught:
            resolve_trainer_params(trainer, task, params)
        return caught.exception

    def test_defaults_and_aliases(self):
        p = resolve_trainer_params("xgboost", "regression", {"eta": 0.3, "num_boost_round": 10})
        self.assertEqual((p["learning_rate"], p["n_estimators"], p["max_depth"]), (0.3, 10, 6))
        self.assertNotIn("alpha", resolve_trainer_params("linear", "classification", {}))

    def test_unknown_out_of_range_and_conflicting(self):
        e = self.refused("xgboost", "regression", {"max_dept": 3})
        self.assertEqual(e.parameter, "params.max_dept")
        self.assertIn("unknown xgboost parameter 'params.max_dept'", e.message)
        e = self.refused("xgboost", "regression", {"max_depth": 0})
        self.assertEqual(e.parameter, "params.max_depth")
        self.assertIn("[1, 32]", e.message)
        self.assertEqual(self.refused("xgboost", "regression", {"learning_rate": 0}).parameter, "params.learning_rate")
        self.assertEqual(self.refused("xgboost", "regression", {"max_depth": 2.5}).parameter, "params.max_depth")
        self.assertEqual(self.refused("xgboost", "regression", {"subsample": "half"}).parameter, "params.subsample")
        e = self.refused("xgboost", "regression", {"eta": 0.1, "learning_rate": 0.2})
        self.assertIn("same parameter", e.message)
        self.assertEqual(self.refused("linear", "regression", {"penalty": "l3"}).parameter, "params.penalty")

    def test_parameters_of_another_task(self):
        e = self.refused("linear", "classification", {"alpha": 1})
        self.assertEqual(e.parameter, "params.alpha")
        self.assertIn("does not apply to classification", e.message)


if __name__ == "__main__":
    unittest.main()
