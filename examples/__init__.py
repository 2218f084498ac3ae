"""The example cases, installed as the package ``xueji_policy.examples`` (the staff page offers them).

Find them with ``importlib.resources.files("xueji_policy.examples")``; the cases are the JSON files
beside this one.
"""
