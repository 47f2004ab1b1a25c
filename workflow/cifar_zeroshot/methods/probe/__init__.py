"""methods/probe"""
