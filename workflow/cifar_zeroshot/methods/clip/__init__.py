"""methods/clip"""
